#!/usr/bin/env node
/*
 * ort_run.js — run an ONNX model with ONNX Runtime (CPU) on .bin tensor files.
 *
 *   node ort_run.js model.onnx in.bin out.bin [--threads N] [--bench N] [--no-opt] [--profile PREFIX]
 *
 * Inputs come from in.bin (docs/formats.md), matched to the model's inputs by name, or by
 * position when the names do not match and the counts are equal. Session: CPU execution
 * provider, intraOpNumThreads N (default 1), interOpNumThreads 1, graphOptimizationLevel "all".
 * All outputs are written to out.bin in the model's output order (same format).
 * --bench N: after 2 warm-up runs, times N runs and prints one JSON line
 *   {"model":..., "batch":B, "threads":N, "runs":N, "median_ms":..., "min_ms":..., "images_per_s":...}
 * (batch = dim 0 of the first input); out.bin is still written (from the last run).
 * --no-opt: graphOptimizationLevel "disabled": every node as the model says (QDQ models: ORT's
 * optimizer would fuse QuantizeLinear/DequantizeLinear around convolutions into int8 kernels).
 * --profile PREFIX: ONNX Runtime's own profiler on (per-node kernel times of every run, warm-up
 * included), written to PREFIX_<date>.json (bench/prof_vs_ort.py compares it with odet's).
 * onnxruntime-node is loaded from <repo>/.cache/node/node_modules (scripts/deps.sh), or from
 * $ODET_NODE_MODULES. Exit codes: 0 ok, 1 runtime failure, 2 bad input or usage.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const MAX_RANK = 8;
const MAX_NAME = 4096;
/* ONNX TensorProto.DataType -> [ort type, TypedArray, element size] */
const DTYPES = {
	1: ['float32', Float32Array, 4],
	2: ['uint8', Uint8Array, 1],
	3: ['int8', Int8Array, 1],
	4: ['uint16', Uint16Array, 2],
	5: ['int16', Int16Array, 2],
	6: ['int32', Int32Array, 4],
	7: ['int64', BigInt64Array, 8],
	9: ['bool', Uint8Array, 1],
	10: ['float16', Uint16Array, 2],
	11: ['float64', Float64Array, 8],
	12: ['uint32', Uint32Array, 4],
	13: ['uint64', BigUint64Array, 8],
};
const CODES = {};
for (const [code, [t]] of Object.entries(DTYPES))
	CODES[t] = Number(code);

class BadInput extends Error {}

function usage(msg) {
	if (msg)
		process.stderr.write(`ort_run: ${msg}\n`);
	process.stderr.write('usage: node ort_run.js model.onnx in.bin out.bin [--threads N] [--bench N] [--no-opt] [--profile PREFIX]\n');
	process.exit(2);
}

function loadOrt() {
	const dirs = [];
	if (process.env.ODET_NODE_MODULES)
		dirs.push(process.env.ODET_NODE_MODULES);
	dirs.push(path.resolve(__dirname, '..', '..', '.cache', 'node', 'node_modules'));
	for (const d of dirs) {
		try {
			return require(path.join(d, 'onnxruntime-node'));
		} catch (e) {
			if (e.code !== 'MODULE_NOT_FOUND')
				throw e;
		}
	}
	process.stderr.write(`ort_run: onnxruntime-node not found in ${dirs.join(', ')} (run scripts/deps.sh)\n`);
	process.exit(1);
}

/* Parse a tensor file; every length is checked against the file size before use. */
function readTensors(file) {
	const buf = fs.readFileSync(file);
	let pos = 0;
	const need = (n, what) => {
		if (pos + n > buf.length)
			throw new BadInput(`${file}: truncated at offset ${pos} reading ${what}`);
	};
	need(12, 'header');
	if (buf.toString('latin1', 0, 4) !== 'ODTN')
		throw new BadInput(`${file}: bad magic (not an ODTN tensor file)`);
	const version = buf.readUInt32LE(4), count = buf.readUInt32LE(8);
	if (version !== 1)
		throw new BadInput(`${file}: unsupported version ${version}`);
	pos = 12;
	const out = [];
	for (let i = 0; i < count; i++) {
		need(4, 'name length');
		const nlen = buf.readUInt32LE(pos);
		pos += 4;
		if (nlen > MAX_NAME)
			throw new BadInput(`${file}: tensor ${i}: name length ${nlen} > ${MAX_NAME}`);
		need(nlen, 'name');
		const name = buf.toString('utf8', pos, pos + nlen);
		pos += nlen;
		need(8, 'dtype/rank');
		const code = buf.readUInt32LE(pos), rank = buf.readUInt32LE(pos + 4);
		pos += 8;
		if (!DTYPES[code])
			throw new BadInput(`${file}: tensor ${name}: unsupported dtype ${code}`);
		if (rank > MAX_RANK)
			throw new BadInput(`${file}: tensor ${name}: rank ${rank} > ${MAX_RANK}`);
		need(8 * rank, 'dims');
		const dims = [];
		let numel = 1;
		for (let r = 0; r < rank; r++) {
			const d = buf.readBigInt64LE(pos + 8 * r);
			if (d < 0n || d > BigInt(buf.length))
				throw new BadInput(`${file}: tensor ${name}: bad dim ${d}`);
			dims.push(Number(d));
			numel *= Number(d);
		}
		pos += 8 * rank;
		const [type, Arr, esize] = DTYPES[code];
		const nbytes = numel * esize;
		need(nbytes, 'data');
		/* copy into an aligned buffer: typed arrays need element alignment */
		const data = new Arr(numel);
		Buffer.from(data.buffer).set(buf.subarray(pos, pos + nbytes));
		pos += nbytes;
		out.push({ name, type, dims, data });
	}
	if (pos !== buf.length)
		throw new BadInput(`${file}: ${buf.length - pos} trailing bytes`);
	return out;
}

function writeTensors(file, list) {
	const parts = [];
	const head = Buffer.alloc(12);
	head.write('ODTN', 0, 'latin1');
	head.writeUInt32LE(1, 4);
	head.writeUInt32LE(list.length, 8);
	parts.push(head);
	for (const t of list) {
		const code = CODES[t.type];
		if (!code)
			throw new Error(`output ${t.name}: unsupported type ${t.type}`);
		const nb = Buffer.from(t.name, 'utf8');
		const h = Buffer.alloc(4 + nb.length + 8 + 8 * t.dims.length);
		let p = h.writeUInt32LE(nb.length, 0);
		p += nb.copy(h, p);
		p = h.writeUInt32LE(code, p);
		p = h.writeUInt32LE(t.dims.length, p);
		for (const d of t.dims)
			p = h.writeBigInt64LE(BigInt(d), p);
		parts.push(h);
		const d = t.data;
		parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
	}
	const tmp = `${file}.tmp${process.pid}`;
	fs.writeFileSync(tmp, Buffer.concat(parts));
	fs.renameSync(tmp, file);
}

function median(a) {
	const s = [...a].sort((x, y) => x - y);
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
	const pos = [];
	let threads = 1, bench = 0, opt = 'all', profile = null;
	const argv = process.argv.slice(2);
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--threads' || a === '--bench') {
			const v = Number(argv[++i]);
			if (!Number.isInteger(v) || v < (a === '--bench' ? 1 : 0))
				usage(`${a} needs a non-negative integer`);
			if (a === '--threads')
				threads = v;
			else
				bench = v;
		} else if (a === '--no-opt') {
			opt = 'disabled';
		} else if (a === '--profile') {
			if (i + 1 >= argv.length)
				usage('--profile needs a file prefix');
			profile = argv[++i];
		} else if (a === '-h' || a === '--help') {
			usage();
		} else if (a.startsWith('--')) {
			usage(`unknown option ${a}`);
		} else {
			pos.push(a);
		}
	}
	if (pos.length !== 3)
		usage('need model.onnx in.bin out.bin');
	const [modelPath, inPath, outPath] = pos;

	let inputs;
	try {
		inputs = readTensors(inPath);
	} catch (e) {
		process.stderr.write(`ort_run: ${e.message}\n`);
		process.exit(e instanceof BadInput ? 2 : 1);
	}
	const ort = loadOrt();
	let session;
	try {
		session = await ort.InferenceSession.create(modelPath, {
			executionProviders: ['cpu'],
			intraOpNumThreads: threads,
			interOpNumThreads: 1,
			graphOptimizationLevel: opt,
			...(profile ? {enableProfiling: true, profileFilePrefix: profile} : {}),
		});
	} catch (e) {
		process.stderr.write(`ort_run: ${modelPath}: ${e.message}\n`);
		process.exit(2);
	}
	const names = session.inputNames;
	const byName = new Map(inputs.map((t) => [t.name, t]));
	const byPos = !names.every((n) => byName.has(n)) && inputs.length === names.length;
	const feeds = {};
	names.forEach((n, i) => {
		const t = byPos ? inputs[i] : byName.get(n);
		if (!t) {
			process.stderr.write(`ort_run: ${inPath}: no tensor for model input '${n}'\n`);
			process.exit(2);
		}
		feeds[n] = new ort.Tensor(t.type, t.data, t.dims);
	});

	let results;
	try {
		results = await session.run(feeds);
		if (bench > 0) {
			results = await session.run(feeds);
			const times = [];
			for (let i = 0; i < bench; i++) {
				const t0 = process.hrtime.bigint();
				results = await session.run(feeds);
				times.push(Number(process.hrtime.bigint() - t0) / 1e6);
			}
			const first = feeds[names[0]];
			const batch = first.dims.length ? first.dims[0] : 1;
			const med = median(times);
			console.log(JSON.stringify({
				model: path.basename(modelPath), batch, threads, runs: bench,
				median_ms: +med.toFixed(3), min_ms: +Math.min(...times).toFixed(3),
				images_per_s: +(batch * 1000 / med).toFixed(3),
			}));
		}
	} catch (e) {
		process.stderr.write(`ort_run: ${modelPath}: run failed: ${e.message}\n`);
		process.exit(1);
	}
	if (profile)
		session.endProfiling();
	const outs = session.outputNames.map((n) => ({
		name: n, type: results[n].type, dims: results[n].dims, data: results[n].data,
	}));
	try {
		writeTensors(outPath, outs);
	} catch (e) {
		process.stderr.write(`ort_run: ${outPath}: ${e.message}\n`);
		process.exit(1);
	}
}

main();
