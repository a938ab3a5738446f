// Single-edge-notched specimen under shear (Miehe et al. 2010): unit square, slot notch from the left edge
// to the centre, refined from the notch tip down to the bottom edge (x >= 0.45, y <= 0.55), where the
// crack runs. Units: mm.
// gpfem run fracture --preset shear --mesh meshes/shear.geo   (left and right held at u_y = 0: rollers)
// Boundary physical groups: bottom, top, left, right (the notch faces are free).
SetFactory("OpenCASCADE");
L = 1.0;        // side
a = 0.5;        // notch depth
w = 1e-3;       // notch slot width
h_fine = 0.0075;
h_coarse = 0.025;
band_lo = 0.0;
band_hi = 0.55;
band_x_lo = 0.45;

Rectangle(1) = {0, 0, 0, L, L};
Rectangle(2) = {-L, L/2 - w/2, 0, L + a, w};
BooleanDifference(3) = { Surface{1}; Delete; }{ Surface{2}; Delete; };

eps = 1e-6;
Physical Curve("bottom") = Curve In BoundingBox{-eps, -eps, -eps, L + eps, eps, eps};
Physical Curve("top") = Curve In BoundingBox{-eps, L - eps, -eps, L + eps, L + eps, eps};
Physical Curve("right") = Curve In BoundingBox{L - eps, -eps, -eps, L + eps, L + eps, eps};
Physical Curve("left") = Curve In BoundingBox{-eps, -eps, -eps, eps, L + eps, eps};
Physical Surface("domain") = {3};

Field[1] = Box;
Field[1].VIn = h_fine;
Field[1].VOut = h_coarse;
Field[1].XMin = band_x_lo - eps;
Field[1].XMax = L + eps;
Field[1].YMin = band_lo;
Field[1].YMax = band_hi;
Field[1].Thickness = 0;
Background Field = 1;
Mesh.MeshSizeExtendFromBoundary = 0;
Mesh.MeshSizeFromPoints = 0;
Mesh.MeshSizeFromCurvature = 0;
Mesh.Algorithm = 6;
