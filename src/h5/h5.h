/* SPDX-License-Identifier: BSD-3-Clause */
/* h5.h -- what the HDF5 files of this folder share (h5.c), and nothing
 * more: no other layer sees hdf5.h.
 *
 * The h5 layer writes and reads frames in pandas' fixed layout (the public
 * rf_frame_write_hdf5 / rf_frame_read_hdf5: frame_write.c, frame_read.c)
 * and rows files (rows.h, a private module that one job uses until the
 * datasets issue publishes it). It stands on base/ and data/. Debian's
 * HDF5 is not thread-safe: every call stays on the MPI thread.
 */
#ifndef RF_H5_H
#define RF_H5_H

#include <hdf5.h>

#include "data/data.h"

/* Largest array read from a file: what a frame may weigh on the wire.
 * Malformed shapes ask for no more than this. */
#define RF_H5_MAX_READ RF_MAX_MESSAGE

/* ---- h5.c: HDF5's error stack ------------------------------------------- */
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

#define RF_H5_WHY_LEN 160
/* HDF5's innermost message about the last failure ("" if none). Call it
 * right at the failure: the next HDF5 call clears the stack. */
void rf__h5_why(char why[RF_H5_WHY_LEN]);
/* RF_EHDF5: the file, what was being done and HDF5's innermost message
 * (call it right at the failure). rf__h5_failed: the same with the
 * message taken earlier (rf__h5_why; "" for none). */
rf_status rf__h5_fail(const char *path, const char *fmt, ...) RF_PRINTF(2, 3);
rf_status rf__h5_failed(const char *path, const char *why, const char *fmt,
                        ...) RF_PRINTF(3, 4);
/* Closing keeps the first error: st, or the close's failure (rc < 0)
 * when nothing failed before it. */
rf_status rf__h5_closed(rf_status st, herr_t rc, const char *path,
                        const char *what);
/* n bytes (at least one, so that empty arrays need no special case). */
void *rf__h5_bytes(size_t n);

/* ---- h5.c: names and attributes ------------------------------------------ */
/* A frame's key: one group below the root, [A-Za-z0-9_]+. RF_EINVAL. */
rf_status rf__h5_check_key(const char *key);
/* map is NULL or a map of string, int and double values under names that
 * are free of pandas' and PyTables' (frame_group: also of the names pandas
 * gives a frame's group); what names it in messages. RF_EINVAL. */
rf_status rf__h5_check_attrs(const rf_value *map, const char *what,
                             int frame_group);

/* Writing objects of one file: its name (for messages) and the creation
 * properties that leave out time stamps. */
typedef struct {
  const char *path;
  hid_t gcpl, dcpl;
} rf_h5_writer;
/* A fixed-length string type size bytes wide (at least 1) in cset;
 * H5I_INVALID_HID when HDF5 fails. */
hid_t rf__h5_text_type(size_t size, H5T_str_t pad, H5T_cset_t cset);
/* The same in UTF-8, with the failure said for w's file. */
rf_status rf__h5_string_type(const rf_h5_writer *w, size_t size, H5T_str_t pad,
                             hid_t *out);
/* Scalar attribute name of obj, of file type ftype, from buf (mtype). */
rf_status rf__h5_put_attr(const rf_h5_writer *w, hid_t obj, const char *name,
                          hid_t ftype, hid_t mtype, const void *buf);
/* A scalar UTF-8 string attribute as wide as s, as PyTables writes them. */
rf_status rf__h5_put_text(const rf_h5_writer *w, hid_t obj, const char *name,
                          const char *s);
rf_status rf__h5_put_i64(const rf_h5_writer *w, hid_t obj, const char *name,
                         int64_t v);
/* The entries of map (checked by rf__h5_check_attrs) as attributes. */
rf_status rf__h5_put_attrs(const rf_h5_writer *w, hid_t obj,
                           const rf_value *map);
/* rf__h5_check_attrs then rf__h5_put_attrs, for a file that is not a
 * frame's (what names it in messages). */
rf_status rf__h5_set_attrs(hid_t obj, const rf_value *map, const char *what);

/* ---- h5.c: reading attributes --------------------------------------------
 * What a read found: the value, no such attribute, one of another kind,
 * or a failure of HDF5 (its innermost message then in why, when given). */
enum { RF_H5_ATTR_OK, RF_H5_ATTR_MISSING, RF_H5_ATTR_OTHER, RF_H5_ATTR_FAILED };
/* A scalar fixed-length string attribute of obj into buf: NUL-terminated,
 * and OTHER unless it is shorter than cap. */
int rf__h5_attr_text(hid_t obj, const char *name, char *buf, size_t cap,
                     char *why);
/* A scalar integer attribute of obj (any width and order) as int64. */
int rf__h5_attr_int(hid_t obj, const char *name, int64_t *out, char *why);

#endif /* RF_H5_H */
