/* fuzz_line.c -- libFuzzer target: arbitrary bytes into a freshly booted device
 * (make fuzz; ./build/fuzz/fuzz_line -runs=N). The first byte picks the role, the device
 * family and how time moves, so clinician verbs, every family's rules and timers are
 * reached too. */
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "verbs.h"
#include "hal_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fw_port_t port = {"STIMFW-FUZZ", "0", "0", FW_CHEM_LIION, 1, 1, STIMFW_FAMILY};
    size_t i, start = 1;
    if (size == 0) {
        return 0;
    }
    fake_reset_all();
    port.family = (uint8_t)((data[0] >> 2) % FW_FAMILY_COUNT);
    port.chem = (data[0] & 2u) ? FW_CHEM_PRIMARY : FW_CHEM_FAMILY; /* where the family takes it */
    fw_init(&fw_dev, &port, &fw_verbs);
    if (data[0] & 1u) {
        fw_dev.role = FW_ROLE_CLINICIAN;
    }
    for (i = 1; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            fw_rx(&fw_dev, data + start, i - start + (i < size ? 1u : 0u));
            fake_now_us += (uint64_t)(data[0] >> 2) * 997u;
            fw_poll(&fw_dev, 0);
            fake_out_clear();
            start = i + 1;
        }
    }
    return 0;
}
