/* coco_labels.h — the 80 COCO detection classes: names and their category ids (1..90). */
#ifndef ODET_IO_COCO_LABELS_H
#define ODET_IO_COCO_LABELS_H

#define IO_COCO_CLASSES 80
extern const char *const io_coco_names[IO_COCO_CLASSES];
extern const int io_coco_category_id[IO_COCO_CLASSES];

#endif
