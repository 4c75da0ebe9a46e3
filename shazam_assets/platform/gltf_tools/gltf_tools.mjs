// The glTF work the publish stage hands to Node: channel derivatives, decoding them back, and
// the Khronos glTF-Validator. Python calls it through shazam_assets.platform.gltf_tools, one
// command per process, with a deadline and a heap cap; every command prints one JSON line.
//
//   node gltf_tools.mjs derive IN.glb OUT.glb OPTIONS_JSON
//       Draco geometry (KHR_draco_mesh_compression) and textures re-encoded (WebP, resized so
//       the longest side is at most OPTIONS.texture_max_px). Every extension glTF-Transform
//       knows is read and written back (KHR_materials_variants and its mappings included).
//       -> {"triangles": N, "textures": [[w, h], ...]}
//   node gltf_tools.mjs decode IN.glb OUT.glb
//       The same model with plain geometry: Draco decoded, quantized attributes back to float,
//       so a renderer without a Draco decoder (trimesh) can draw it. -> {"triangles": N}
//   node gltf_tools.mjs validate FILE.glb
//       The Khronos glTF-Validator's verdict. -> {"errors": N, "warnings": N, "error_codes": [...], "warning_codes": [...]}
//
// A failure prints {"error": "..."} and exits 1.

import { readFile } from "node:fs/promises";
import { NodeIO } from "@gltf-transform/core";
import { ALL_EXTENSIONS, KHRDracoMeshCompression, KHRMeshQuantization } from "@gltf-transform/extensions";
import { dequantize, draco, textureCompress } from "@gltf-transform/functions";
import draco3d from "draco3dgltf";
import sharp from "sharp";
import validator from "gltf-validator";

const TRIANGLES = 4;

async function io({ encoder = false } = {}) {
  const dependencies = { "draco3d.decoder": await draco3d.createDecoderModule() };
  if (encoder) dependencies["draco3d.encoder"] = await draco3d.createEncoderModule();
  return new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies(dependencies);
}

function triangles(document) {
  let count = 0;
  for (const mesh of document.getRoot().listMeshes()) {
    for (const prim of mesh.listPrimitives()) {
      if (prim.getMode() !== TRIANGLES) continue;
      const indices = prim.getIndices();
      const position = prim.getAttribute("POSITION");
      count += Math.floor((indices ? indices.getCount() : position ? position.getCount() : 0) / 3);
    }
  }
  return count;
}

async function textureSizes(document) {
  const sizes = [];
  for (const texture of document.getRoot().listTextures()) {
    const image = texture.getImage();
    if (!image) continue;
    const meta = await sharp(Buffer.from(image)).metadata();
    sizes.push([meta.width ?? 0, meta.height ?? 0]);
  }
  return sizes;
}

async function derive(input, output, options) {
  const nodeIO = await io({ encoder: true });
  const document = await nodeIO.read(input);
  const max = options.texture_max_px;
  await document.transform(
    textureCompress({
      encoder: sharp,
      targetFormat: options.texture_format,
      resize: [max, max],
      quality: options.texture_quality,
    }),
    draco({
      method: options.draco_method,
      quantizePosition: options.quantize_position,
      quantizeNormal: options.quantize_normal,
      quantizeTexcoord: options.quantize_texcoord,
      quantizeColor: options.quantize_color,
      quantizeGeneric: options.quantize_generic,
    }),
  );
  await nodeIO.write(output, document);
  return { triangles: triangles(document), textures: await textureSizes(document) };
}

async function decode(input, output) {
  const nodeIO = await io();
  const document = await nodeIO.read(input);
  await document.transform(dequantize());
  for (const extension of document.getRoot().listExtensionsUsed()) {
    const name = extension.extensionName;
    if (name === KHRDracoMeshCompression.EXTENSION_NAME || name === KHRMeshQuantization.EXTENSION_NAME) {
      extension.dispose();
    }
  }
  await nodeIO.write(output, document);
  return { triangles: triangles(document) };
}

async function validate(file) {
  const report = await validator.validateBytes(new Uint8Array(await readFile(file)), {
    uri: file,
    format: "glb",
    maxIssues: 0,
    writeTimestamp: false,
  });
  const { numErrors, numWarnings, messages } = report.issues;
  const codes = (severity) => [...new Set(messages.filter((m) => m.severity === severity).map((m) => m.code))];
  return { errors: numErrors, warnings: numWarnings, error_codes: codes(0), warning_codes: codes(1) };
}

async function main([command, ...args]) {
  if (command === "derive" && args.length === 3) return derive(args[0], args[1], JSON.parse(args[2]));
  if (command === "decode" && args.length === 2) return decode(args[0], args[1]);
  if (command === "validate" && args.length === 1) return validate(args[0]);
  throw new Error("usage: gltf_tools.mjs derive IN OUT OPTIONS_JSON | decode IN OUT | validate FILE");
}

try {
  process.stdout.write(`${JSON.stringify(await main(process.argv.slice(2)))}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error) })}\n`);
  process.exitCode = 1;
}
