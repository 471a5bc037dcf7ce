import { Engine } from "./engine.js";

let current: Promise<Engine> | undefined;
let ready: Engine | undefined;

/**
 * The engine built-ins use when none is given: started on first use with one
 * worker per available core. Like every engine, its idle workers do not keep
 * the process alive, so a script that uses it simply ends.
 */
export async function getDefaultEngine(): Promise<Engine> {
  if (current) {
    const engine = await current.catch(() => undefined);
    if (engine && !engine.closed) return engine;
  }
  const starting = Engine.start();
  current = starting;
  starting.then(
    (engine) => {
      if (current === starting) ready = engine;
    },
    () => {
      if (current === starting) current = undefined;
    },
  );
  return starting;
}

/** The default engine if it has started and is open; undefined while it starts (or before anything asked for it). */
export function defaultEngineIfReady(): Engine | undefined {
  return ready && !ready.closed ? ready : undefined;
}
