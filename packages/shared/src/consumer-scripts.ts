import { LuaScript } from './lua-script.js';

/**
 * Resets the idle time of the entries still pending for this consumer
 * (XCLAIM JUSTID does not count a delivery), so that a handler running longer
 * than claimIdleMs is not claimed by another consumer. Entries another
 * consumer already claimed are left alone. KEYS: stream; ARGV: group,
 * consumer, ids... Returns how many were touched.
 */
export const touchPendingScript = new LuaScript(`
local touched = 0
for i = 3, #ARGV do
  local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #row == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    touched = touched + 1
  end
end
return touched
`);

/**
 * Deletes a consumer only if it has nothing pending, in one step: a check in
 * JavaScript followed by XGROUP DELCONSUMER could lose entries read in
 * between. KEYS: stream; ARGV: group, consumer. Returns 1 when deleted.
 */
export const deleteIdleConsumerScript = new LuaScript(`
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #rows > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`);
