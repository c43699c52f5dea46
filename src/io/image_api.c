/* image_api.c — the public image and COCO-label calls of odet.h over src/io. */
#include "io/coco_labels.h"
#include "io/image.h"

#include <string.h>

/* odet_image and io_image hold the same three fields */
static io_image to_io(const odet_image *img)
{
	io_image im = {.w = img->width, .h = img->height, .rgb = img->rgb};
	return im;
}

static void from_io(const io_image *im, odet_image *img)
{
	img->width = im->w;
	img->height = im->h;
	img->rgb = im->rgb;
}

odet_status odet_image_decode_file(odet_ctx *ctx, const char *path, odet_image *out)
{
	if (!path || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_image_decode_file: NULL argument");
	io_image im;
	odet_status rc = io_image_decode_file(ctx, path, &im);
	from_io(&im, out);
	return rc;
}

odet_status odet_image_decode_mem(odet_ctx *ctx, const void *data, size_t size, const char *label, odet_image *out)
{
	if ((!data && size) || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_image_decode_mem: NULL argument");
	io_image im;
	odet_status rc = io_image_decode_mem(ctx, data, size, label ? label : "image", &im);
	from_io(&im, out);
	return rc;
}

void odet_image_free(odet_image *img)
{
	if (!img)
		return;
	io_image im = to_io(img);
	io_image_free(&im);
	memset(img, 0, sizeof *img);
}

odet_status odet_image_write_jpeg(odet_ctx *ctx, const char *path, const odet_image *img, int quality)
{
	if (!path || !img || !img->rgb)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_image_write_jpeg: NULL argument");
	io_image im = to_io(img);
	return io_image_write_jpeg(ctx, path, &im, quality);
}

void odet_image_draw_box(odet_image *img, const float box[4], const uint8_t color[3], int thickness,
			 const char *label)
{
	if (!img || !img->rgb || !box || !color)
		return;
	io_image im = to_io(img);
	io_draw_box(&im, box[0], box[1], box[2], box[3], color, thickness, label);
}

int odet_image_draw_text(odet_image *img, int x, int y, const char *text, const uint8_t color[3], int scale)
{
	if (!img || !img->rgb || !text || !color)
		return 0;
	io_image im = to_io(img);
	return io_draw_text(&im, x, y, text, color, scale);
}

void odet_class_color(int cls, uint8_t color[3])
{
	io_class_color(cls, color);
}

/* index into COCO's 80 classes, or -1 */
static int coco_index(const odet_model_info *mi, int cls)
{
	if (!mi)
		return -1;
	if (mi->coco_offset < 0) {
		for (int i = 0; i < IO_COCO_CLASSES; i++)
			if (io_coco_category_id[i] == cls)
				return i;
		return -1;
	}
	int k = cls - mi->coco_offset;
	return k >= 0 && k < IO_COCO_CLASSES ? k : -1;
}

const char *odet_coco_class_name(const odet_model_info *mi, int cls)
{
	int k = coco_index(mi, cls);
	return k >= 0 ? io_coco_names[k] : NULL;
}

int odet_coco_category_id(const odet_model_info *mi, int cls)
{
	if (mi && mi->coco_offset < 0)
		return cls;
	int k = coco_index(mi, cls);
	return k >= 0 ? io_coco_category_id[k] : -1;
}
