/* coord.h -- a stand-in for the fixture. */
#include <hdf5.h>
