/* main_rp2040.c -- the generator on a Raspberry Pi Pico: USB CDC bytes in, fw_poll()
 * handing phase edges 1 ms ahead to the alarm interrupt (hal_rp2040.c). A host opening
 * or closing the port (DTR) is a new link: fw_link_reset, as stimfw-host does for TCP. */
#include "device.h"
#include "verbs.h"
#include "pico/stdio_usb.h"
#include "pico/stdlib.h"
#include "pico/unique_id.h"

#define FW_VERSION "0.1.0"
#define EDGE_HORIZON_US 1000u

void hal_rp2040_init(void);

int main(void)
{
    static char serial[2 * PICO_UNIQUE_BOARD_ID_SIZE_BYTES + 1];
    fw_port_t port;
    bool connected = false;
    stdio_init_all();
    hal_rp2040_init();
    pico_get_unique_board_id_string(serial, sizeof serial);
    port.model = "STIMFW-RP2040";
    port.fw = FW_VERSION;
    port.sn = serial;
    port.chem = FW_CHEM_FAMILY;   /* the family's default battery */
    port.family = STIMFW_FAMILY;  /* -DSTIMFW_FAMILY=FW_FAMILY_DRG builds another family */
    port.sim = 1;                 /* SIM verbs on: the battery and faults are simulated here too */
    port.batt_persist_step = 10;  /* write the battery level to flash every 1 %, not every 0.1 % */
    fw_init(&fw_dev, &port, &fw_verbs);      /* !BOOT goes out before USB enumerates; hosts start with HELLO */
    for (;;) {
        int c;
        if (stdio_usb_connected() != connected) {
            connected = !connected;
            fw_link_reset(&fw_dev); /* whatever the last host was allowed, the next starts afresh */
        }
        while ((c = getchar_timeout_us(0)) != PICO_ERROR_TIMEOUT) {
            uint8_t b = (uint8_t)c;
            fw_rx(&fw_dev, &b, 1);
        }
        fw_poll(&fw_dev, EDGE_HORIZON_US);
        tight_loop_contents();
    }
}
