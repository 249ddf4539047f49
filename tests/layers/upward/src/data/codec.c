/* A data file that includes MPI: refused. */
#include <mpi.h>
#include "data.h"
