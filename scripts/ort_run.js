#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (npm package onnxruntime-node, CPU) and
// writes every output as .npy: the reference implementation for tmc's tests.
//
//   node scripts/ort_run.js MODEL.onnx OUT_DIR [NAME=]IN.npy ...
//
// Inputs are taken in graph order unless given as NAME=FILE. OUT_DIR gets
// one <index>.npy per output and index.json ([{"name", "file", "dtype",
// "shape"}]). Graph optimisations are disabled (ORT_DISABLE_ALL) unless
// TMC_ORT_OPT=1, so QDQ models run exactly as written unless asked.
'use strict';
const fs = require('fs');
const path = require('path');

function findOrt() {
  const roots = [process.env.TMC_ORT_DIR, path.join(__dirname, '..', '.deps', 'ort', 'node_modules'),
                 path.join(process.cwd(), 'node_modules')].filter(Boolean);
  for (const r of roots) {
    const p = path.join(r, 'onnxruntime-node');
    if (fs.existsSync(p)) return require(p);
  }
  return require('onnxruntime-node');
}

const NPY_TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array], '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array], '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array],
  '<i4': ['int32', Int32Array], '<u4': ['uint32', Uint32Array], '<i8': ['int64', BigInt64Array],
  '<u8': ['uint64', BigUint64Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order is not supported`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const t = NPY_TYPES[descr];
  if (!t) throw new Error(`${file}: dtype ${descr} is not supported`);
  const data = buf.subarray(hstart + hlen);
  const bytes = new Uint8Array(data.length);
  bytes.set(data);
  const arr = new t[1](bytes.buffer, 0, bytes.length / t[1].BYTES_PER_ELEMENT);
  return {type: t[0], data: t[0] === 'bool' ? new Uint8Array(arr) : arr, shape};
}

function writeNpy(file, tensor) {
  const entry = Object.entries(NPY_TYPES).find(([, v]) => v[0] === tensor.type);
  if (!entry) throw new Error(`output type ${tensor.type} cannot be written`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const d = tensor.data;
  const body = tensor.type === 'bool' ? Buffer.from(d.map(x => (x ? 1 : 0)))
                                       : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) {
    console.error('usage: ort_run.js MODEL.onnx OUT_DIR [NAME=]IN.npy ...');
    process.exit(2);
  }
  const ort = findOrt();
  const [model, outDir, ...ins] = args;
  const opt = process.env.TMC_ORT_OPT === '1' ? 'all' : 'disabled';
  const session = await ort.InferenceSession.create(model, {graphOptimizationLevel: opt});
  const feeds = {};
  ins.forEach((spec, i) => {
    let name = session.inputNames[i], file = spec;
    const eq = spec.indexOf('=');
    if (eq > 0 && !fs.existsSync(spec)) { name = spec.slice(0, eq); file = spec.slice(eq + 1); }
    const t = readNpy(file);
    feeds[name] = new ort.Tensor(t.type, t.data, t.shape);
  });
  const results = await session.run(feeds);
  fs.mkdirSync(outDir, {recursive: true});
  const index = [];
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    const file = `${i}.npy`;
    writeNpy(path.join(outDir, file), t);
    index.push({name, file, dtype: t.type, shape: t.dims});
  });
  fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify(index, null, 1) + '\n');
}

main().catch(e => { console.error(`ort_run: ${e.message || e}`); process.exit(1); });
