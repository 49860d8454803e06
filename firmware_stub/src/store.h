/* store.h -- the persistent state and its A/B banks. Every change writes the whole
 * image to the bank that is not current, with a higher sequence number and a CRC-32;
 * at boot the valid bank with the higher sequence wins. A torn write leaves the other
 * bank whole, so a slot is always the old or the new one, never a mix. */
#ifndef STIMFW_STORE_H
#define STIMFW_STORE_H

#include <stdint.h>
#include "program.h"
#include "params_gen.h"
#include "pin.h"

#define FW_STORE_BANK_SIZE 8192u
#define FW_STORE_MAGIC 0x31574653u /* "SFW1" */
#define FW_STORE_VERSION 3u         /* 2: PIN record instead of digits; lockout persisted; 3: loop keys */
#define FW_DEVREC_MAGIC 0x44574653u /* "SFWD" */
#define FW_DEVREC_VERSION 1u
#define FW_STORE_DEVICE_AREA 2u     /* hal_store_* area of the device record (hal.h) */

enum { FW_LOG_PROG = 1, FW_LOG_ERASE, FW_LOG_SELECT, FW_LOG_STIM, FW_LOG_AMP, FW_LOG_TEST, FW_LOG_MRI,
       FW_LOG_LOGIN, FW_LOG_LOGOUT, FW_LOG_CONFIG, FW_LOG_STOP };

typedef struct {
    uint8_t used;
    int32_t clin_amp_ua;   /* AMP at the PROG write (the acknowledged amplitude) */
    uint8_t ack;           /* written with ACK=CHARGE: the closed loop may enter the charge-density zone */
    fw_program_t prog;     /* prog.v[FW_P_AMP] is the slot's current amplitude */
} fw_slot_t;

typedef struct {
    uint32_t i;
    uint32_t t_ms;
    uint8_t role;
    uint8_t what;   /* FW_LOG_* */
    uint8_t slot;   /* 0 when none */
} fw_log_entry_t;

typedef struct {
    fw_slot_t slots[FW_N_SLOTS];
    uint8_t active_slot;              /* 1..16 */
    fw_pin_record_t pin;              /* pin.h: salt, PBKDF2 hash, wrapped proof key */
    uint8_t wrong_proofs;             /* wrong LOGIN proofs in a row (< FW_LOCK_TRIES) */
    uint8_t locked;                   /* LOGIN locked out; a start re-arms the full lockout */
    uint32_t impedance_default;       /* lead contacts, ohm */
    uint32_t log_next_i;              /* I of the next entry (from 1) */
    uint8_t log_head;                 /* index of the oldest entry */
    uint8_t log_count;
    fw_log_entry_t log[FW_LOG_SIZE];
    int64_t batt_e_pj;
    uint8_t batt_eos;
    uint8_t defaults_flag;            /* found corrupt at some start; cleared by PROG / CONFIG */
} fw_persist_t;

typedef struct {
    uint32_t magic;
    uint32_t version;
    uint32_t size;
    uint32_t seq;
    fw_persist_t p;
    uint32_t crc;
} fw_image_t;

enum { FW_STORE_OK = 0, FW_STORE_EMPTY, FW_STORE_CORRUPT };

/* The device record: written once, at the first start, before the first bank, and kept
 * apart from the banks (HAL area FW_STORE_DEVICE_AREA). Its presence says the banks have
 * been written (so two empty banks then are a lost state, not a new device), and it holds
 * the device key that wraps the LOGIN proof key (pin.h). */
typedef struct {
    uint32_t magic;
    uint32_t version;
    uint8_t key[FW_DEVICE_KEY_LEN];
    uint32_t crc;
} fw_devrec_t;

/* Read the device record: FW_STORE_OK, FW_STORE_EMPTY (never written) or FW_STORE_CORRUPT. */
int fw_devrec_load(fw_devrec_t *rec);
/* Seal (magic, version, CRC) and write it; 0 on success. */
int fw_devrec_save(fw_devrec_t *rec);

/* Fill p with the factory state (empty slots, default impedance, full battery); the PIN
 * record is left zero for the caller to set (it needs the device key and a salt). */
void fw_persist_defaults(fw_persist_t *p, int64_t batt_full_pj, uint32_t contact_ohm);
/* Load the newest valid bank into img. Returns FW_STORE_*; *bank = the current bank. */
int fw_store_load(fw_image_t *img, uint8_t *bank);
/* Write img to the other bank; on success it becomes current. Returns 0 on success. */
int fw_store_save(fw_image_t *img, uint8_t *bank);

#endif
