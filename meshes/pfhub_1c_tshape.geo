// PFHub benchmark 1c: T-shaped domain, total height 120, total width 100, bar and stem 20 wide, in
// PFHub's coordinates: stem [0, 20] x [0, 100], bar [-40, 60] x [100, 120] (the initial condition is a
// function of x and y, so the placement matters; gpfem's `geometry=tshape` builds the same domain).
// Use with any Cahn-Hilliard preset:  gpfem run cahn-hilliard --mesh meshes/pfhub_1c_tshape.geo
// Change the element size with:        gmsh -setnumber h 1 ...  (or edit h below)
SetFactory("OpenCASCADE");
DefineConstant[ h = {2.0, Name "element size"} ];
Rectangle(1) = {0, 0, 0, 20, 100};
Rectangle(2) = {-40, 100, 0, 100, 20};
BooleanUnion(3) = { Surface{1}; Delete; }{ Surface{2}; Delete; };
Physical Surface("domain") = {3};
Physical Curve("boundary") = Boundary{ Surface{3}; };
MeshSize{ PointsOf{ Surface{3}; } } = h;
Mesh.MeshSizeMax = h;
