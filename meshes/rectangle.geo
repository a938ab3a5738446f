// Structured rectangle [0, Lx] x [0, Ly] with nx x ny elements, sides named left/right/bottom/top.
// The same geometry gpfem's rectangle() builder makes (e.g. the Cahn-Hilliard presets).
SetFactory("OpenCASCADE");
DefineConstant[ Lx = {200.0, Name "Lx"}, Ly = {200.0, Name "Ly"},
                nx = {200, Name "nx"}, ny = {200, Name "ny"} ];
Rectangle(1) = {0, 0, 0, Lx, Ly};
Physical Surface("domain") = {1};
Physical Curve("bottom") = {1};
Physical Curve("right") = {2};
Physical Curve("top") = {3};
Physical Curve("left") = {4};
Transfinite Curve{1, 3} = nx + 1;
Transfinite Curve{2, 4} = ny + 1;
Transfinite Surface{1};
