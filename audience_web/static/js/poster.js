// The poster's one control: print (the CSP allows no inline handler).
document.getElementById("print").addEventListener("click", () => window.print());
