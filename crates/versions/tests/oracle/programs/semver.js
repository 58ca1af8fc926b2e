// The npm SemVer oracle: node-semver, loaded from the directory given as the first argument.
// "P\tv" answers strict/loose/err (valid in strict mode, only in loose mode, or not at all);
// "C\ta\tb" answers -1/0/1 as semver.compare in loose mode (or err).
const semver = require(process.argv[2]);
const lines = require("readline").createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const [kind, a, b] = line.split("\t");
  let out;
  if (kind === "P") {
    out = semver.valid(a) !== null ? "strict" : semver.valid(a, true) !== null ? "loose" : "err";
  } else {
    try {
      out = String(semver.compare(a, b, true));
    } catch (e) {
      out = "err";
    }
  }
  process.stdout.write(out + "\n");
});
