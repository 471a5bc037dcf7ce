import { Engine } from "./engine.js";

let current: Promise<Engine> | undefined;

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
  current = Engine.start();
  current.catch(() => {
    current = undefined;
  });
  return current;
}
