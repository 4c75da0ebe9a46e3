// Differential harness: validate files with the official Khronos glTF-Validator.
//
// Usage: node bench/khronos/validate.mjs [--repeat N] FILE [FILE ...]
//
// With --repeat N each file is validated once to warm up, then N more times, and `ms` is the
// median of those N (the benchmark's warm time, without Node's start-up).
//
// Prints one JSON line per file:
//   {"file": ..., "numErrors": N, "codes": [error codes], "messages": [...], "ms": elapsed}
// `codes` lists the distinct codes of ERROR-severity messages, so the Python side can compare
// verdicts; `messages` lists every message as [code, severity, pointer] (severity 0 error,
// 1 warning, 2 information, 3 hint; pointer null for byte offsets), so a test can compare
// codes one by one (tests/ingest/delivery/test_khronos_parity.py). External resources (buffers, images) are read from the file's
// folder, like the validator's own command line does. The format is chosen from the file
// extension (.glb or .gltf), as the command line does, instead of sniffing the first byte.
// A file the library refuses outright (unreadable, undetectable format) is reported with
// numErrors -1 and the error text, so a caller never mistakes it for a valid asset.

import { readFile } from "node:fs/promises";
import path from "node:path";
import validator from "gltf-validator";

const SEVERITY_ERROR = 0;

// The validator's PNG reader can throw a stray "Future already completed" after it has
// already rejected an image (no IHDR before IDAT); the report is complete by then, so log
// the stray error instead of letting it end the whole batch.
process.on("uncaughtException", (error) => {
  process.stderr.write(`ignored stray validator exception: ${error}\n`);
});

function externalResourceFunction(folder) {
  return async (uri) => {
    const target = path.resolve(folder, decodeURIComponent(uri));
    return new Uint8Array(await readFile(target));
  };
}

async function validateFile(file) {
  const data = new Uint8Array(await readFile(file));
  const started = process.hrtime.bigint();
  const ext = path.extname(file).toLowerCase();
  const report = await validator.validateBytes(data, {
    uri: path.basename(file),
    format: ext === ".glb" ? "glb" : ext === ".gltf" ? "gltf" : undefined,
    maxIssues: 0,
    writeTimestamp: false,
    externalResourceFunction: externalResourceFunction(path.dirname(file)),
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const { messages } = report.issues;
  const errors = messages.filter((m) => m.severity === SEVERITY_ERROR);
  const codes = [...new Set(errors.map((m) => m.code))];
  return {
    file,
    numErrors: report.issues.numErrors,
    codes,
    messages: messages.map((m) => [m.code, m.severity, m.pointer ?? null]),
    ms: Math.round(ms * 1000) / 1000,
  };
}

async function timed(file, repeat) {
  let line = await validateFile(file);
  if (repeat > 0) {
    const times = [];
    for (let i = 0; i < repeat; i += 1) times.push((await validateFile(file)).ms);
    times.sort((a, b) => a - b);
    line = { ...line, ms: times[Math.floor(times.length / 2)], repeat };
  }
  return line;
}

async function main(args) {
  let repeat = 0;
  if (args[0] === "--repeat") {
    repeat = Number.parseInt(args[1], 10);
    args = args.slice(2);
  }
  const files = args;
  if (files.length === 0 || !(repeat >= 0)) {
    console.error("usage: node validate.mjs [--repeat N] FILE [FILE ...]");
    process.exitCode = 2;
    return;
  }
  for (const file of files) {
    let line;
    try {
      line = await timed(file, repeat);
    } catch (error) {
      line = { file, numErrors: -1, codes: [], messages: [], ms: 0, error: String(error) };
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

await main(process.argv.slice(2));
