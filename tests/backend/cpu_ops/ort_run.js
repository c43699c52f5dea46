// ort_run.js — run single-node ONNX models with ONNX Runtime (node): ort_run.js ORT_MODULE DIR
// DIR/<case>/model.onnx + in.bin (inputs in odet's tensor format, named as the model's inputs)
// -> DIR/<case>/out.bin (outputs in the model's order) or DIR/<case>/error.txt.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(process.argv[2]);

const TYPES = {1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
	9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64'};
const CODES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, +k]));
const ARRAYS = {float32: Float32Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array,
	int16: Int16Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array, float16: Uint16Array,
	float64: Float64Array, uint32: Uint32Array, uint64: BigUint64Array};

function readTensors(file) {
	const b = fs.readFileSync(file);
	let off = 8;
	const count = b.readUInt32LE(off); off += 4;
	const out = {};
	for (let i = 0; i < count; i++) {
		const nl = b.readUInt32LE(off); off += 4;
		const name = b.toString('utf8', off, off + nl); off += nl;
		const type = TYPES[b.readUInt32LE(off)]; off += 4;
		const rank = b.readUInt32LE(off); off += 4;
		const dims = [];
		for (let d = 0; d < rank; d++) { dims.push(Number(b.readBigInt64LE(off))); off += 8; }
		const n = dims.reduce((a, c) => a * c, 1);
		const A = ARRAYS[type];
		const bytes = b.subarray(off, off + n * A.BYTES_PER_ELEMENT);
		off += bytes.length;
		const data = new A(new Uint8Array(bytes).buffer);
		out[name] = new ort.Tensor(type, type === 'bool' ? Uint8Array.from(data) : data, dims);
	}
	return out;
}

function writeTensors(file, list) {
	const parts = [Buffer.from('ODTN'), u32(1), u32(list.length)];
	for (const [name, t] of list) {
		const nb = Buffer.from(name);
		parts.push(u32(nb.length), nb, u32(CODES[t.type]), u32(t.dims.length));
		for (const d of t.dims) { const x = Buffer.alloc(8); x.writeBigInt64LE(BigInt(d)); parts.push(x); }
		const data = t.data;
		parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
	}
	fs.writeFileSync(file, Buffer.concat(parts));
}

function u32(v) { const x = Buffer.alloc(4); x.writeUInt32LE(v); return x; }

(async () => {
	const dir = process.argv[3];
	for (const c of fs.readdirSync(dir).sort()) {
		const d = path.join(dir, c);
		try {
			const s = await ort.InferenceSession.create(path.join(d, 'model.onnx'), {logSeverityLevel: 4});
			const feeds = fs.existsSync(path.join(d, 'in.bin')) ? readTensors(path.join(d, 'in.bin')) : {};
			const res = await s.run(feeds);
			writeTensors(path.join(d, 'out.bin'), s.outputNames.map(n => [n, res[n]]));
		} catch (e) {
			fs.writeFileSync(path.join(d, 'error.txt'), String(e.message || e).split('\n')[0]);
		}
	}
})();
