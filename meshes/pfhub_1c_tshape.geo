// PFHub benchmark 1c: T-shaped domain (a 100 x 20 bar on top of a centred 20 x 100 stem).
// Use with any Cahn-Hilliard preset:  gpfem run cahn-hilliard --mesh meshes/pfhub_1c_tshape.geo
// Change the element size with:        gmsh -setnumber h 1 ...  (or edit h below)
SetFactory("OpenCASCADE");
DefineConstant[ h = {2.0, Name "element size"} ];
Rectangle(1) = {40, 0, 0, 20, 100};
Rectangle(2) = {0, 100, 0, 100, 20};
BooleanUnion(3) = { Surface{1}; Delete; }{ Surface{2}; Delete; };
Physical Surface("domain") = {3};
Physical Curve("boundary") = Boundary{ Surface{3}; };
MeshSize{ PointsOf{ Surface{3}; } } = h;
Mesh.MeshSizeMax = h;
