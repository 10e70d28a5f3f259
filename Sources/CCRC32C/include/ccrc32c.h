#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the CRC-32C instructions used below (SSE 4.2 on x86-64, the CRC
/// extension on 64-bit ARM), 0 otherwise.
int ccrc32c_hardware_available(void);

/// Updates a CRC-32C register (not inverted) over `length` bytes with the CPU's instructions.
/// Call only when ccrc32c_hardware_available() returned 1.
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *data, size_t length);

#endif
