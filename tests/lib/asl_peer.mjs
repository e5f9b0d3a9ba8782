// asl_peer.mjs - run an Amazon States Language state machine with
// aws-local-stepfunctions, an interpreter that is not sluice, so that the
// conformance test (tests/e2e/600-flow-conformance.sh) can hold sluice's
// answer and a second one against the expected outcome.
//
//   node tests/lib/asl_peer.mjs DEFINITION.json INPUT_JSON
//   node tests/lib/asl_peer.mjs --batch < CASES.jsonl
//
// Prints the execution's output as compact JSON on stdout and exits 0; on
// a failed or timed-out execution prints {"error": NAME, "cause": TEXT}
// and exits 1, as `sluice run` reports them.  A definition the peer
// refuses is {"error": "InvalidDefinition", ...}; one it cannot be set up
// for here, {"error": "asl_peer.Unsupported", ...}; an execution still
// running after 20 s (real time), {"error": "asl_peer.Hung", ...}.  Exit
// 2 is a usage error of this script.
//
// --batch runs many executions in one process (node and the peer take most
// of a second to load): each stdin line {"name", "definition", "input"}
// gives one stdout line {"name", "output"} or {"name", "error", "cause"}.
//
// Nothing waits: every Wait state and every retry interval is overridden
// to 0 ms (the peer has no virtual clock, so time is not compared).  Its
// ARN check is off, since sluice's test resources are not AWS services;
// JSONPath checks stay on.
//
// sluice's test resources (src/flow/tasks.h) are the Task states' local
// handlers, with the same semantics:
//
//   test.echo            the effective input, as the result
//   test.fail            fails with input.error (default sluice.TestError)
//                        and input.cause (default "")
//   test.fail-n-times    fails while k < input.n (or the length of
//                        input.errors, whose k-th item, a name or
//                        {error, cause}, is the error), where k counts the
//                        earlier calls of the same state name with the same
//                        effective input (canonical JSON) in the execution;
//                        then returns input.result if present, else
//                        {"attempts": k + 1}
//   test.sleep           an echo (no clock: TimeoutSeconds cannot expire)
//
// The peer keys local handlers by state name, not by resource, so the
// Task states of one definition (branches and iterators included) that
// share a name must share a resource.
//
// Needs aws-local-stepfunctions: from NODE_MODULES, or else the
// checkout's build/deps/node/node_modules (scripts/setup.sh test).  It
// asks for node 22 and uses one thing node 20 (Debian 12's) lacks,
// Promise.withResolvers, which is supplied here as the language defines it.
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
  join(process.env.SLUICE_SRC || resolve(new URL('.', import.meta.url).pathname, '../..'),
    'build/deps/node/node_modules')
const { StateMachine } = await import(
  pathToFileURL(join(modules, 'aws-local-stepfunctions/build/main.node.esm.js')).href)

const PREFIX = 'arn:aws:states:::sluice:'

function usage (msg) {
  process.stderr.write(`asl_peer: ${msg}\nusage: node asl_peer.mjs DEFINITION.json INPUT_JSON\n`)
  process.exit(2)
}

// JSON text with object keys sorted at every level: equal values, equal text.
function canonical (v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']'
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort()
      .map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}'
  }
  return JSON.stringify(v)
}

function str (obj, key, dflt) {
  const v = obj !== null && typeof obj === 'object' ? obj[key] : undefined
  return typeof v === 'string' ? v : dflt
}

// An error the peer reports as Error = name, Cause = message.
function taskError (name, cause) {
  const e = new Error(cause)
  e.name = name
  return e
}

const resources = {
  'test.echo': () => (input) => input,
  'test.sleep': () => (input) => input,
  'test.fail': () => (input) => {
    throw taskError(str(input, 'error', 'sluice.TestError'), str(input, 'cause', ''))
  },
  'test.fail-n-times': (state, calls) => (input) => {
    const key = state + '\u0000' + canonical(input)
    const k = calls.get(key) || 0
    calls.set(key, k + 1)
    const obj = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {}
    const errors = Array.isArray(obj.errors) ? obj.errors : null
    const limit = errors ? errors.length : (Number.isInteger(obj.n) ? obj.n : 0)
    if (k < limit) {
      let error = str(obj, 'error', 'sluice.TestError')
      let cause = str(obj, 'cause', '')
      const e = errors ? errors[k] : undefined
      if (typeof e === 'string') {
        error = e
      } else if (e !== null && typeof e === 'object') {
        error = str(e, 'error', error)
        cause = str(e, 'cause', cause)
      }
      throw taskError(error, cause)
    }
    return 'result' in obj ? obj.result : { attempts: k + 1 }
  }
}

// Every state of a machine and of the machines inside its Parallel and Map
// states, with its name.
function * states (machine) {
  for (const [name, s] of Object.entries(machine.States || {})) {
    yield [name, s]
    for (const b of s.Branches || []) yield * states(b)
    if (s.ItemProcessor) yield * states(s.ItemProcessor)
    if (s.Iterator) yield * states(s.Iterator)
  }
}

// The run's overrides; calls maps state name + canonical input to the
// calls so far (one map per execution).
function overrides (definition, calls) {
  const handlers = {}
  const owner = {}
  const waits = {}
  const retries = {}
  for (const [name, s] of states(definition)) {
    if (s.Type === 'Wait') waits[name] = 0
    if (Array.isArray(s.Retry)) retries[name] = 0
    if (s.Type !== 'Task') continue
    const res = typeof s.Resource === 'string' ? s.Resource : ''
    const make = res.startsWith(PREFIX) ? resources[res.slice(PREFIX.length)] : undefined
    if (make === undefined) throw new Error(`state '${name}': no local handler for '${res}'`)
    if (name in owner && owner[name] !== res) {
      throw new Error(`two Task states named '${name}' with different resources`)
    }
    owner[name] = res
    handlers[name] = make(name, calls)
  }
  return { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries }
}

// One execution: {output} or {error, cause}.
async function run (definition, input) {
  let machine, ov
  try {
    machine = new StateMachine(definition, { validationOptions: { checkArn: false } })
  } catch (e) {
    return { error: 'InvalidDefinition', cause: e.message }
  }
  try {
    ov = overrides(definition, new Map())
  } catch (e) {
    return { error: 'asl_peer.Unsupported', cause: e.message }
  }
  const execution = machine.run(input, { overrides: ov })
  let timer
  const hung = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no end after 20 s'),
      { name: 'asl_peer.Hung' })), 20000)
  })
  try {
    const output = await Promise.race([execution.result, hung])
    return { output: output === undefined ? null : output }
  } catch (e) {
    if (e.name === 'asl_peer.Hung') execution.abort()
    if (e.name === 'ExecutionTimeoutError') return { error: 'States.Timeout', cause: e.message }
    if (e.name === 'ExecutionError' && e.cause instanceof Error) {
      return { error: e.cause.name, cause: String(e.cause.message) }
    }
    return { error: e.name || 'Error', cause: String(e.message) }
  } finally {
    clearTimeout(timer)
  }
}

// Write, then exit once the text is out: on a pipe, stdout is asynchronous
// and process.exit() would cut it short.
function finish (text, status) {
  process.stdout.write(text, () => process.exit(status))
}

async function main (args) {
  if (args.length === 1 && args[0] === '--batch') {
    // Read with the stream: readFileSync(0) may stop short on a pipe.
    const chunks = []
    for await (const chunk of process.stdin) chunks.push(chunk)
    const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.trim() !== '')
    let out = ''
    for (const line of lines) {
      const c = JSON.parse(line)
      const r = await run(c.definition, c.input)
      out += JSON.stringify({ name: c.name, ...r }) + '\n'
    }
    return finish(out, 0)
  }
  if (args.length !== 2) usage('takes a definition file and an input, or --batch')
  let definition, input
  try {
    definition = JSON.parse(readFileSync(args[0], 'utf8'))
  } catch (e) {
    usage(`${args[0]}: ${e.message}`)
  }
  try {
    input = JSON.parse(args[1])
  } catch (e) {
    usage(`the input is not JSON: ${e.message}`)
  }
  const r = await run(definition, input)
  if ('output' in r) return finish(JSON.stringify(r.output) + '\n', 0)
  return finish(JSON.stringify({ error: r.error, cause: r.cause }) + '\n', 1)
}

await main(process.argv.slice(2))
