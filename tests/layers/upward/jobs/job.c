/* A job that includes an internal header: refused. */
#include "rankflow.h"
#include "exec/exec.h"
