import { info } from "./info.js";

const USAGE = `usage: sabre <command>

commands:
  info      what this machine offers: threads, shared memory, Atomics, versions
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case "info": {
      const facts = info();
      const width = Math.max(...Object.keys(facts).map((k) => k.length));
      for (const [k, v] of Object.entries(facts)) console.log(`${k.padEnd(width)}  ${v}`);
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`sabre: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
