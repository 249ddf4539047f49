/* exec.h -- a stand-in for the fixture. */
