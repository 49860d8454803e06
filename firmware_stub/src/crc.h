/* crc.h -- CRC-16/CCITT-FALSE for protocol lines, CRC-32 for the persistent store. */
#ifndef STIMFW_CRC_H
#define STIMFW_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor.
 * check("123456789") = 0x29B1. Pass 0xFFFF as crc to start, a previous result to go on. */
uint16_t fw_crc16(uint16_t crc, const uint8_t *data, size_t len);

/* CRC-32 (IEEE 802.3, reflected, init and final xor 0xFFFFFFFF); check = 0xCBF43926.
 * Pass 0 to start, a previous result to go on. */
uint32_t fw_crc32(uint32_t crc, const uint8_t *data, size_t len);

#endif
