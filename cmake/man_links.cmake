# man_links.cmake -- cmake -P script: copy the section-3 pages into the
# build's man tree and give every name a page's NAME line lists a link to
# it (rf_future_wait.3 -> rf_future.3, relative, as mandoc and man-db both
# follow), so `man rf_future_wait` opens rf_future(3).
# The NAME lines are the one list: check_man.py keeps them equal to what
# each SYNOPSIS declares.
# -D SOURCE=man/man3  OUTPUT=build/man/man3
# SPDX-License-Identifier: BSD-3-Clause

file(REMOVE_RECURSE "${OUTPUT}")
file(MAKE_DIRECTORY "${OUTPUT}")
file(GLOB pages RELATIVE "${SOURCE}" "${SOURCE}/*.3")
if(NOT pages)
  message(FATAL_ERROR "no section-3 pages in ${SOURCE}")
endif()
foreach(page ${pages})
  file(COPY "${SOURCE}/${page}" DESTINATION "${OUTPUT}")
  file(STRINGS "${SOURCE}/${page}" lines)
  set(in_name 0)
  set(name_line "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^\\.SH")
      if(in_name)
        break()
      endif()
      if(line MATCHES "^\\.SH +\"?NAME\"?$")
        set(in_name 1)
      endif()
    elseif(in_name AND NOT line MATCHES "^\\.")
      set(name_line "${line}")
      break()
    endif()
  endforeach()
  string(REGEX REPLACE " *\\\\-.*$" "" names "${name_line}")
  if(names STREQUAL "")
    message(FATAL_ERROR "${SOURCE}/${page}: no NAME line")
  endif()
  string(REPLACE "," ";" names "${names}")
  string(REGEX REPLACE "\\.3$" "" own "${page}")
  foreach(name ${names})
    string(STRIP "${name}" name)
    if(NOT name STREQUAL own)
      if(EXISTS "${SOURCE}/${name}.3")
        message(FATAL_ERROR "${page} lists ${name}, which has a page of its own")
      endif()
      file(CREATE_LINK "${page}" "${OUTPUT}/${name}.3" SYMBOLIC)
    endif()
  endforeach()
endforeach()
