/* api/ may not include rank0's private header. */
#include "rank0/coord.h"
