// The middleware in front of each provider's token route. It applies the control API's modes:
//   slow          the answer is held back (30 s by default, POST /mode {"delay_ms":N} to change)
//   server_error  500 {"error":"server_error"} without touching the provider
// and lets each provider reshape the provider's answer (success and error) afterwards, which is
// where the Garage61 id_token rewrites happen (see garage61.mjs).

import { json } from './common.mjs';

export function tokenEndpointMiddleware({
  name, state, tokenPath, onSuccess, onError,
}) {
  return async (ctx, next) => {
    if (ctx.path !== tokenPath || ctx.method !== 'POST') return next();
    const mode = state.mode(name);
    if (mode.mode === 'slow') await state.sleep(name, mode.delay_ms);
    if (mode.mode === 'server_error') {
      json(ctx, 500, { error: 'server_error', error_description: 'test peer: mode server_error' });
      if (onError) await onError(ctx);
      return undefined;
    }
    await next();
    if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && ctx.body.access_token) {
      if (onSuccess) await onSuccess(ctx);
    } else if (ctx.body && typeof ctx.body === 'object' && ctx.body.error) {
      if (onError) await onError(ctx);
    }
    return undefined;
  };
}
