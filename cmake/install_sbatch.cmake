# install_sbatch.cmake -- run by `cmake --install` (install(CODE) includes it):
# installs the batch scripts of slurm/ into RF_SBATCH_DEST, each told where
# its installed body is, and the body told where the installed programs are.
# Why: sbatch runs a spooled copy of a script, so an installed script cannot
# find its neighbours from its own path; the absolute paths are written in
# at install time (the final prefix, not DESTDIR's staging place).
# Reads RF_SBATCH_SRC (slurm/), RF_SBATCH_DEST and RF_SBATCH_BINDIR (both
# absolute, without DESTDIR), RF_SBATCH_TMP (a build directory).
# SPDX-License-Identifier: BSD-3-Clause

foreach(path "${RF_SBATCH_DEST}" "${RF_SBATCH_BINDIR}")
  if(path MATCHES "[\"$`\\]")
    message(FATAL_ERROR "install prefix ${path}: the batch scripts cannot hold a path with \", $, ` or \\")
  endif()
endforeach()
file(MAKE_DIRECTORY "${RF_SBATCH_TMP}")
# rf_sbatch_edit(NAME PLACEHOLDER VALUE): copy NAME into RF_SBATCH_TMP with
# the line starting PLACEHOLDER="" given VALUE; a missing placeholder is a
# build error, not a script that silently looks in the wrong place.
function(rf_sbatch_edit name placeholder value)
  file(READ "${RF_SBATCH_SRC}/${name}" text)
  string(FIND "${text}" "\n${placeholder}=\"\"" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${RF_SBATCH_SRC}/${name}: no line ${placeholder}=\"\"")
  endif()
  string(REPLACE "\n${placeholder}=\"\"" "\n${placeholder}=\"${value}\"" text "${text}")
  file(WRITE "${RF_SBATCH_TMP}/${name}" "${text}")
endfunction()

rf_sbatch_edit(rankflow-job.sh rf_bindir "${RF_SBATCH_BINDIR}")
file(GLOB scripts RELATIVE "${RF_SBATCH_SRC}" "${RF_SBATCH_SRC}/*.sbatch")
foreach(s ${scripts})
  rf_sbatch_edit(${s} installed "${RF_SBATCH_DEST}/rankflow-job.sh")
endforeach()
list(TRANSFORM scripts PREPEND "${RF_SBATCH_TMP}/")
file(INSTALL DESTINATION "${RF_SBATCH_DEST}" TYPE FILE
     FILES ${scripts} "${RF_SBATCH_TMP}/rankflow-job.sh"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                      GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
