/* geometry: rendition sizes; see geometry.h. */
#include "process/geometry.h"

#include <math.h>

/* Down to an even number, at least 2. */
static int geometry_even(double v)
{
    int n = (int)floor(v);
    n -= n % 2;
    return n < 2 ? 2 : n;
}

bool geometry_fit(geometry_size_t src, geometry_size_t box, geometry_size_t *out)
{
    if (src.width <= 0 || src.height <= 0 || box.width <= 0 || box.height <= 0)
        return false;
    /* Turn the box to the source's orientation: long side with long side. */
    bool portrait = src.height > src.width;
    int long_box = box.width > box.height ? box.width : box.height;
    int short_box = box.width > box.height ? box.height : box.width;
    double bw = portrait ? short_box : long_box, bh = portrait ? long_box : short_box;
    /* The largest scale that fits the box, never above 1. */
    double scale = fmin(1.0, fmin(bw / src.width, bh / src.height));
    out->width = geometry_even(src.width * scale + 1e-9);
    out->height = geometry_even(src.height * scale + 1e-9);
    return true;
}
