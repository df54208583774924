/*
 * geometry: the picture size of a rendition, from the source's display size
 * and the template's box.  Pure.
 *
 * A template's rendition WxH is a box for the long and the short side: a
 * 1280x720 rendition of a portrait phone video (1080x1920 once rotated) is
 * 720x1280, as Mux, Cloudflare Stream and the vendor's "720p" mean it.  The
 * picture keeps the source's display aspect ratio inside that box, is never
 * larger than the source (no upscaling: a 640x360 source stays 640x360 in a
 * 1280x720 rendition), and has even sides (4:2:0 encoders need them;
 * libx264 refuses odd sizes).
 */
#ifndef VODUP_PROCESS_GEOMETRY_H
#define VODUP_PROCESS_GEOMETRY_H

#include <stdbool.h>

typedef struct geometry_size {
    int width, height;
} geometry_size_t;

/* The rendition size for a source of display size src inside box (either
 * orientation).  False when a size is not positive. */
bool geometry_fit(geometry_size_t src, geometry_size_t box, geometry_size_t *out);

#endif
