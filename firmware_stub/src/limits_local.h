/* limits_local.h -- constants the firmware needs that the Python limits table
 * (stimsim.device.limits, generated into params_gen.h) does not hold yet. Written by
 * hand; when the table grows these names, params_gen.h carries them and this goes. */
#ifndef STIMFW_LIMITS_LOCAL_H
#define STIMFW_LIMITS_LOCAL_H

/* A TCP client that sends no byte for this long is disconnected (stimfw-host --tcp;
 * --idle-timeout S overrides it), so an idle client cannot hold the one slot forever. */
#define FW_IDLE_TIMEOUT_S_DEFAULT 60

#endif
