// tfjs_run.js — the TF.js reference: run a TF.js graph model with TF.js's pure-JS CPU backend.
//   node tfjs_run.js model.json in.bin out.bin [--outputs name1,name2] [--bench N]
// in.bin / out.bin: odet tensor files (docs/formats.md). The first input tensor feeds the
// model's (single) input; outputs are written under the model's output names.
'use strict';
const fs = require('fs');
const path = require('path');
const NODE_DIR = path.resolve(process.env.ODET_NODE_DIR || path.join(__dirname, '..', '..', '.cache', 'node'));
const tf = require(path.join(NODE_DIR, 'node_modules', '@tensorflow', 'tfjs'));

const DTYPES = { 1: ['float32', Float32Array], 6: ['int32', Int32Array], 7: ['int64', BigInt64Array] };

function readTensors(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'ODTN') throw new Error(`${file}: not an odet tensor file`);
  let o = 8;
  const count = b.readUInt32LE(o); o += 4;
  const out = [];
  for (let i = 0; i < count; i++) {
    const nl = b.readUInt32LE(o); o += 4;
    const name = b.toString('utf8', o, o + nl); o += nl;
    const dtype = b.readUInt32LE(o); o += 4;
    const rank = b.readUInt32LE(o); o += 4;
    const dims = [];
    for (let k = 0; k < rank; k++) { dims.push(Number(b.readBigInt64LE(o))); o += 8; }
    const n = dims.reduce((a, c) => a * c, 1);
    const [, Arr] = DTYPES[dtype] || [];
    if (!Arr) throw new Error(`${file}: dtype ${dtype} unsupported`);
    const bytes = n * Arr.BYTES_PER_ELEMENT;
    const data = new Arr(b.buffer.slice(b.byteOffset + o, b.byteOffset + o + bytes));
    o += bytes;
    out.push({ name, dtype, dims, data });
  }
  return out;
}

function writeTensors(file, tensors) {
  const parts = [];
  const head = Buffer.alloc(12);
  head.write('ODTN', 0, 'latin1'); head.writeUInt32LE(1, 4); head.writeUInt32LE(tensors.length, 8);
  parts.push(head);
  for (const t of tensors) {
    const name = Buffer.from(t.name, 'utf8');
    const h = Buffer.alloc(12 + name.length + 8 * t.dims.length);
    let o = 0;
    h.writeUInt32LE(name.length, o); o += 4;
    name.copy(h, o); o += name.length;
    h.writeUInt32LE(1, o); o += 4;
    h.writeUInt32LE(t.dims.length, o); o += 4;
    for (const d of t.dims) { h.writeBigInt64LE(BigInt(d), o); o += 8; }
    parts.push(h, Buffer.from(Float32Array.from(t.data).buffer));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

function fileHandler(jsonPath) {
  return {
    load: async () => {
      const j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const specs = [];
      const bufs = [];
      for (const g of j.weightsManifest) {
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(path.dirname(jsonPath), p)));
        specs.push(...g.weights);
      }
      const all = Buffer.concat(bufs);
      return {
        modelTopology: j.modelTopology, weightSpecs: specs, format: j.format,
        generatedBy: j.generatedBy, convertedBy: j.convertedBy, signature: j.signature,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 3) {
    console.error('usage: node tfjs_run.js model.json in.bin out.bin [--outputs a,b] [--bench N]');
    process.exit(2);
  }
  const [modelPath, inPath, outPath] = args;
  const oi = args.indexOf('--outputs');
  const bi = args.indexOf('--bench');
  await tf.setBackend('cpu');
  const model = await tf.loadGraphModel(fileHandler(modelPath));
  const outNames = oi >= 0 ? args[oi + 1].split(',') : model.outputs.map((o) => o.name);
  const [inp] = readTensors(inPath);
  const x = tf.tensor(inp.data, inp.dims, 'float32');
  const run = () => {
    const r = model.execute(x, outNames);
    return Array.isArray(r) ? r : [r];
  };
  const res = run();
  const tensors = res.map((t, i) => ({ name: outNames[i].replace(/:0$/, ''), dims: t.shape, data: t.dataSync() }));
  writeTensors(outPath, tensors);
  res.forEach((t) => t.dispose());
  if (bi >= 0) {
    const n = parseInt(args[bi + 1], 10);
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      const r = run();
      r.forEach((t) => t.dataSync());
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      r.forEach((t) => t.dispose());
    }
    times.sort((a, b) => a - b);
    const med = times[Math.floor(times.length / 2)];
    console.log(JSON.stringify({ framework: 'tfjs-cpu', median_ms: med, images_per_s: (inp.dims[0] * 1000) / med }));
  }
}

main().catch((e) => { console.error(`tfjs_run: ${e.message}`); process.exit(1); });
