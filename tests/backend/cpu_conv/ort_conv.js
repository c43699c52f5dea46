// ort_conv.js — times the one-Conv models of ort_conv.py with ONNX Runtime (CPU, 2 intra-op
// threads by default): best of REPS runs after a warm-up, like bench_conv.c.
//   NODE_PATH=<repo>/.cache/node/node_modules node ort_conv.js DIR [threads] [reps]
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');

async function main() {
	const dir = process.argv[2];
	const threads = parseInt(process.argv[3] || '2');
	const reps = parseInt(process.argv[4] || '5');
	const order = ['conv1', 'l1.1x1a', 'l1.3x3', 'l1.1x1b', 'l1.1x1c', 'l2.3x3s2', 'l2.3x3',
		'l2.1x1b', 'l2.1x1c', 'l3.3x3', 'l3.1x1b', 'l3.1x1c', 'l4.3x3', 'l4.1x1b', 'l4.1x1c', 'fpn.lat', 'ret.3x3', 'ret.cls', 'ret.box', 'ssd.loc', 'ssd.conf', 'maxpool'];
	let total = 0; // convs only (maxpool printed apart)
	for (const name of order) {
		const file = path.join(dir, name + '.onnx');
		if (!fs.existsSync(file))
			continue;
		const s = await ort.InferenceSession.create(file, {
			intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
			graphOptimizationLevel: 'all',
		});
		const meta = s.inputNames[0];
		// input shape written next to the model by ort_conv.py
		const dims = JSON.parse(fs.readFileSync(file + '.json', 'utf8'));
		const n = dims.reduce((a, b) => a * b, 1);
		const x = new Float32Array(n);
		for (let i = 0; i < n; i++)
			x[i] = Math.random() * 2 - 1;
		const feeds = {};
		feeds[meta] = new ort.Tensor('float32', x, dims);
		await s.run(feeds);
		let best = 1e30;
		for (let r = 0; r < reps; r++) {
			const t0 = process.hrtime.bigint();
			await s.run(feeds);
			const dt = Number(process.hrtime.bigint() - t0) * 1e-6;
			best = Math.min(best, dt);
		}
		if (name !== 'maxpool')
			total += best;
		console.log(name.padEnd(10), best.toFixed(3), 'ms');
	}
	console.log('total'.padEnd(10), total.toFixed(3), 'ms');
}
main().catch((e) => { console.error(e); process.exit(1); });
