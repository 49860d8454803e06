/* board_pins.h -- where the Pico's phase outputs are (watch them on a scope). */
#ifndef STIMFW_BOARD_PINS_H
#define STIMFW_BOARD_PINS_H

#define PIN_CATHODIC 14   /* GP14, physical pin 19: high during the cathodic phase */
#define PIN_ANODIC 15     /* GP15, physical pin 20: high during the anodic phase (active
                           * recharge) or while the recharge switch is closed (passive) */
#define PIN_STIM_LED 25   /* the on-board LED: on while stimulation is on */
#define PIN_ECAP_ADC 26   /* GP26 = ADC0: the ECAP amplifier's output, mid-rail at 0 uV (SCS-CL) */
#define ECAP_ADC_INPUT 0
#define ECAP_ADC_MV 3300  /* the ADC's reference */
#define ECAP_ADC_COUNTS 4096
#define ECAP_FRONTEND_GAIN 10000 /* the amplifier's gain: 1 uV on the sense contacts = 10 mV at the ADC */
#define ALARM_NUM 2       /* hardware alarm 2 (0..1 are the SDK's defaults for its alarm pool) */

#endif
