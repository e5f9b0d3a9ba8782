// flow_peer.mjs - bench/flow.sh's peer: one execution of a state machine by
// aws-local-stepfunctions, in memory, timing the execution only.
//
//   node bench/flow_peer.mjs DEFINITION.json INPUT.json
//
// Loading node and the package, reading the files and the peer's
// definition check (new StateMachine) come first and are not timed; the
// time is from run() to its result, as `sluice run --stats` times
// flow_execute() and nothing around it.  Prints "seconds S" and the
// output's length in bytes (so the shell can see both sides computed the
// same thing) on stdout.  The definitions are Pass and Map states only: no
// task, no wait, so no override is needed.
//
// Needs aws-local-stepfunctions (build/deps/node/node_modules, from
// scripts/setup.sh test, or NODE_MODULES); node 20 lacks
// Promise.withResolvers, which the package uses, so it is supplied here as
// in tests/lib/asl_peer.mjs.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const modules = process.env.NODE_MODULES ||
  join(resolve(new URL('.', import.meta.url).pathname, '..'), 'build/deps/node/node_modules')
const { StateMachine } = await import(
  pathToFileURL(join(modules, 'aws-local-stepfunctions/build/main.node.esm.js')).href)

if (process.argv.length !== 4) {
  process.stderr.write('usage: node bench/flow_peer.mjs DEFINITION.json INPUT.json\n')
  process.exit(2)
}
const definition = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const input = JSON.parse(readFileSync(process.argv[3], 'utf8'))
const machine = new StateMachine(definition, { validationOptions: { checkArn: false } })

const started = performance.now()
const output = await machine.run(input).result
const seconds = (performance.now() - started) / 1000
const text = `seconds ${seconds.toFixed(6)}\noutput_bytes ${Buffer.byteLength(JSON.stringify(output))}\n`
process.stdout.write(text, () => process.exit(0))
