# Installs the build into a scratch prefix, then configures, builds and runs
# an outside project that uses find_package(diskcache 0.1 CONFIG REQUIRED).
# Variables: BUILD_DIR (this project's build), SOURCE_DIR (the consumer),
# WORK_DIR (scratch).
file(REMOVE_RECURSE ${WORK_DIR})
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix --component Unspecified)
step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/consumer ${WORK_DIR}/cache)
file(GLOB sonames ${WORK_DIR}/prefix/lib*/libdiskcache.so.0.1)
if(NOT sonames)
  message(FATAL_ERROR "installed libdiskcache.so.0.1 (SONAME) not found")
endif()
message(STATUS "consumer built and ran against ${WORK_DIR}/prefix")
