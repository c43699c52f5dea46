/* fuzz_fcw.c — odet-fcw's two input files (apps/fcw/calib.h): the camera calibration text
 * (fcw_calib_parse; a calibration that parses maps a grid of image points to the ground and
 * back and prints), then, after the split marker, the ego-speed CSV (fcw_speed_load_csv from a
 * private folder, sampled by fcw_speed_at). A refusal must come with a message. */
#include "calib.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n1, n2;
	const uint8_t *p2;
	fuzz_split(data, size, &n1, &p2, &n2);
	char *text = malloc(n1 + 1);
	if (!text)
		return 0;
	memcpy(text, data, n1);
	text[n1] = 0;
	char err[512] = "";
	fcw_calib c;
	if (fcw_calib_parse(text, "fuzz.calib", &c, err, sizeof err)) {
		if (!err[0])
			abort();
	} else {
		volatile double sink = 0;
		for (int v = 0; v <= 4; v++)
			for (int u = 0; u <= 4; u++) {
				double X, Y, x, y;
				double iu = (c.image_w ? c.image_w : 1280) * u / 4.0, iv = (c.image_h ? c.image_h : 720) * v / 4.0;
				if (!fcw_image_to_ground(&c, iu, iv, &X, &Y) && !fcw_ground_to_image(&c, X, Y, &x, &y))
					sink += x + y;
			}
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			fcw_calib_print(&c, f);
			fclose(f);
		}
		(void)sink;
	}
	free(text);
	const char *path = fuzz_write("speed.csv", p2, n2);
	if (!path)
		return 0;
	fcw_speed s;
	err[0] = 0;
	if (fcw_speed_load_csv(path, &s, err, sizeof err)) {
		if (!err[0])
			abort();
	} else {
		volatile double sink = 0;
		for (int i = -1; i <= s.n; i++)
			sink += fcw_speed_at(&s, i < 0 ? s.t[0] - 1 : i == s.n ? s.t[s.n - 1] + 1 : 0.5 * (s.t[i] + s.t[i ? i - 1 : 0]));
		(void)sink;
		fcw_speed_free(&s);
	}
	return 0;
}
