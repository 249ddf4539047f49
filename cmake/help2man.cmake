# help2man.cmake -- cmake -P script: one program's section-1 page, made by
# help2man from its --help and --version and the page's include file
# (man/man1/NAME.h2m: description, examples, exit status...), so the
# options in the manual are the ones the program parses.
# Why through a link: the program names itself in --help as invoked, and
# the page must show the installed name (rankflow-timeseries-summary), not
# the build's (timeseries_summary).
# -D PROGRAM=built binary  NAME=installed name  INCLUDE=.h2m  OUTPUT=.1
#    VERSION=x.y.z  DATE=YYYY-MM-DD  HELP2MAN=path  WORK=scratch directory
# SPDX-License-Identifier: BSD-3-Clause

get_filename_component(outdir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${WORK}" "${outdir}")
file(CREATE_LINK "${PROGRAM}" "${WORK}/${NAME}" SYMBOLIC)
execute_process(
  COMMAND "${HELP2MAN}" --no-info --no-discard-stderr
          "--version-string=${VERSION}" --include "${INCLUDE}"
          --output "${OUTPUT}.tmp" "${WORK}/${NAME}"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "help2man ${NAME} failed (${rc}): ${err}")
endif()
# help2man dates the page "Month YYYY"; the manual's date is the release's.
file(READ "${OUTPUT}.tmp" page)
string(REGEX REPLACE "(\n\\.TH [^\n]*) \"[A-Z][a-z]+ [0-9][0-9][0-9][0-9]\"" "\\1 \"${DATE}\""
       page "${page}")
file(WRITE "${OUTPUT}.tmp" "${page}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
