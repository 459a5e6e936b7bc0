// What TallyStorage uses of libzstd: the stable API of zstd.h (1.5 and later).
#include <zstd.h>
