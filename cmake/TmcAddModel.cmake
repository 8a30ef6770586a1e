# tmc build integration: compile ONNX models to C libraries from CMake.
#
# Available after find_package(tmc) (installed package) or
# add_subdirectory(path/to/tmc) (source checkout):
#
#   tmc_add_model(<name> MODEL <file.onnx>
#                 [TARGET <core or board>]          # --target (default: $TMC_TARGET, else tmc's "host")
#                 [QUANTIZE int8 CALIBRATION <dir>] # passed through as --quantize/--calibration
#                 [OPTIONS <extra tmc compile args>...]
#                 [DEPENDS <extra files>...])       # e.g. external weight files
#
#     Runs `tmc compile <file> -o <binary dir>/tmc/<name> --name <name> ...`
#     at build time (again whenever the model, the DEPENDS files or tmc
#     change) and creates the STATIC library target <name> with <name>.c, a
#     PUBLIC include directory holding <name>.h, and libm. <name> must be a C
#     identifier: it prefixes every symbol, so several models link into one
#     image. Relative paths are relative to the current source directory.
#
#   tmc_embed_npy(<target> NAME <c_identifier> FILE <file.npy> [ALIGN <bytes>])
#
#     Converts a NumPy .npy file (C order, little-endian) at build time into a
#     header <c_identifier>.h that <target> can include:
#       static const unsigned char <c_identifier>[] (aligned, default 16)
#       #define <C_IDENTIFIER>_BYTES, _SIZE (elements), _DESCR ("<f4"), _SHAPE ({1, 3, 32, 32})
#     Handy for bundling test inputs into firmware.
#
# The tmc executable is, in this order: the cache variable TMC_EXECUTABLE (a
# host-built tmc; required when tmc is added with add_subdirectory to a
# cross-compiling project, since the compiler cannot be built with a cross
# toolchain), else the imported target tmc::tmc from the package, else the
# tmc target of a native add_subdirectory build.
#
# TMC_RUNTIME_STUBS_DIR points at the runtime stubs (cortex-m/: startup code,
# MPS2 linker scripts, semihosting console).

include_guard(GLOBAL)

set_property(GLOBAL PROPERTY TMC_CMAKE_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# Sets <out_command> (for COMMAND) and <out_depends> (for DEPENDS).
function(_tmc_resolve_executable out_command out_depends)
  if(TMC_EXECUTABLE)
    if(NOT EXISTS "${TMC_EXECUTABLE}")
      message(FATAL_ERROR "TMC_EXECUTABLE is '${TMC_EXECUTABLE}', which does not exist")
    endif()
    set(${out_command} "${TMC_EXECUTABLE}" PARENT_SCOPE)
    set(${out_depends} "${TMC_EXECUTABLE}" PARENT_SCOPE)
  elseif(TARGET tmc::tmc)
    get_target_property(aliased tmc::tmc ALIASED_TARGET)
    if(aliased)
      # Built in this project: a target-level dependency orders the build.
      set(${out_command} "$<TARGET_FILE:${aliased}>" PARENT_SCOPE)
      set(${out_depends} "${aliased}" PARENT_SCOPE)
    else()
      set(${out_command} "$<TARGET_FILE:tmc::tmc>" PARENT_SCOPE)
      set(${out_depends} "$<TARGET_FILE:tmc::tmc>" PARENT_SCOPE)
    endif()
  else()
    message(FATAL_ERROR
      "tmc_add_model: no tmc executable. Use find_package(tmc) (installed tmc), "
      "add_subdirectory(<tmc source>) in a native build, or set -DTMC_EXECUTABLE=<path to a host tmc>.")
  endif()
endfunction()

function(tmc_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "MODEL;TARGET;QUANTIZE;CALIBRATION" "OPTIONS;DEPENDS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tmc_add_model(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "tmc_add_model: '${name}' is not a C identifier (it prefixes the generated symbols)")
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "tmc_add_model(${name}): MODEL <file.onnx> is required")
  endif()
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(NOT "C" IN_LIST languages)
    message(FATAL_ERROR "tmc_add_model(${name}): the generated code is C; enable it with project(... LANGUAGES C)")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  _tmc_resolve_executable(tmc_command tmc_depends)

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/tmc/${name}")
  set(args compile "${model}" -o "${out_dir}" --name "${name}")
  if(ARG_TARGET)
    list(APPEND args --target "${ARG_TARGET}")
  elseif(TMC_TARGET)
    list(APPEND args --target "${TMC_TARGET}")
  endif()
  if(ARG_QUANTIZE)
    list(APPEND args --quantize "${ARG_QUANTIZE}")
  endif()
  set(extra_depends "")
  if(ARG_CALIBRATION)
    get_filename_component(calibration "${ARG_CALIBRATION}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --calibration "${calibration}")
  endif()
  list(APPEND args ${ARG_OPTIONS})
  foreach(d IN LISTS ARG_DEPENDS)
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND extra_depends "${d}")
  endforeach()

  add_custom_command(
    OUTPUT "${out_dir}/${name}.c" "${out_dir}/${name}.h"
    BYPRODUCTS "${out_dir}/${name}.report.json" "${out_dir}/${name}.memory.svg" "${out_dir}/${name}_target.h"
    COMMAND ${tmc_command} ${args}
    DEPENDS "${model}" ${tmc_depends} ${extra_depends}
    COMMENT "tmc: compiling ${model} -> ${name}.c"
    VERBATIM)
  add_library(${name} STATIC "${out_dir}/${name}.c" "${out_dir}/${name}.h")
  target_include_directories(${name} PUBLIC "$<BUILD_INTERFACE:${out_dir}>")
  set_target_properties(${name} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON)
  if(NOT MSVC)
    target_link_libraries(${name} PUBLIC m)
  endif()
  set_property(TARGET ${name} PROPERTY TMC_OUTPUT_DIR "${out_dir}")
endfunction()

function(tmc_embed_npy target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "NAME;FILE;ALIGN" "")
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_NAME OR NOT ARG_FILE)
    message(FATAL_ERROR "usage: tmc_embed_npy(<target> NAME <c_identifier> FILE <file.npy> [ALIGN <bytes>])")
  endif()
  if(NOT ARG_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "tmc_embed_npy: '${ARG_NAME}' is not a C identifier")
  endif()
  if(NOT ARG_ALIGN)
    set(ARG_ALIGN 16)
  endif()
  get_filename_component(file "${ARG_FILE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_property(module_dir GLOBAL PROPERTY TMC_CMAKE_MODULE_DIR)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/tmc_data")
  set(header "${out_dir}/${ARG_NAME}.h")
  add_custom_command(
    OUTPUT "${header}"
    COMMAND "${CMAKE_COMMAND}" "-DINPUT=${file}" "-DOUTPUT=${header}" "-DSYMBOL=${ARG_NAME}" "-DALIGN=${ARG_ALIGN}"
            -P "${module_dir}/TmcNpyToC.cmake"
    DEPENDS "${file}" "${module_dir}/TmcNpyToC.cmake"
    COMMENT "tmc: embedding ${ARG_FILE} as ${ARG_NAME}"
    VERBATIM)
  target_sources(${target} PRIVATE "${header}")
  target_include_directories(${target} PRIVATE "${out_dir}")
endfunction()
