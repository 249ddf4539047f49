/* rf_h5.h -- internals shared by the files that call HDF5 (h5frame.c,
 * h5part.c). Kept apart from rf_internal.h so that only they see hdf5.h.
 */
#ifndef RF_H5_H
#define RF_H5_H

#include <hdf5.h>

#include "rf_internal.h"

/* HDF5 prints its error stack on every failure unless told not to: the
 * library reports errors itself, in one line. */
typedef struct {
  H5E_auto2_t fn;
  void *data;
  int saved;
} rf_h5_quiet;

/* Turn HDF5's automatic error printing off until rf__h5_quiet_end. */
void rf__h5_quiet_begin(rf_h5_quiet *q);
/* Give the caller's handler back. */
void rf__h5_quiet_end(const rf_h5_quiet *q);

/* Set the entries of map (string, int or double values) as attributes of
 * the HDF5 object obj. RF_EINVAL for other value types, RF_EHDF5. */
rf_status rf__h5_set_attrs(hid_t obj, const rf_value *map);

#endif /* RF_H5_H */
