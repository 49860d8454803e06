/* hal_host.h -- the host HAL's setup (hal.h is the interface the core sees). */
#ifndef STIMFW_HAL_HOST_H
#define STIMFW_HAL_HOST_H

#include <stdio.h>
#include "hal.h"

typedef void (*host_write_fn)(const char *data, size_t len);

/* dir: where bank0.bin / bank1.bin live (NULL: in memory, lost at exit);
 * trace_file: where phase edges go (NULL: nowhere); write_fn: bytes to the client. */
void hal_host_setup(const char *dir, FILE *trace_file, host_write_fn write_fn);

#endif
