# CMake toolchain file: bare-metal Cortex-M4F (hard-float, FPv4-SP) with the
# GNU Arm Embedded toolchain (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi).
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake ...
# Set TMC_ARM_CPU_FLAGS (cache) for another core, e.g.
#   -DTMC_ARM_CPU_FLAGS="-mthumb -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard"
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(TMC_ARM_TOOLCHAIN_PREFIX "arm-none-eabi-" CACHE STRING "Cross tool prefix (may include a directory)")
set(CMAKE_C_COMPILER ${TMC_ARM_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${TMC_ARM_TOOLCHAIN_PREFIX}g++)
set(CMAKE_ASM_COMPILER ${TMC_ARM_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_OBJCOPY ${TMC_ARM_TOOLCHAIN_PREFIX}objcopy CACHE FILEPATH "")
set(CMAKE_SIZE ${TMC_ARM_TOOLCHAIN_PREFIX}size CACHE FILEPATH "")

# Compiler checks cannot link a bare-metal program without startup code.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(TMC_ARM_CPU_FLAGS "-mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard"
    CACHE STRING "Core flags for the cross compiler and linker")
set(CMAKE_C_FLAGS_INIT "${TMC_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${TMC_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${TMC_ARM_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${TMC_ARM_CPU_FLAGS} -Wl,--gc-sections")

# Libraries and headers come from the toolchain; programs (tmc, qemu) and
# CMake packages (find_package(tmc): a host tool) from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
