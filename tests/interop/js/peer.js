'use strict';
// An OpenTelemetry JS peer for the .NET integration tests: publishes messages whose headers OpenTelemetry JS's own
// propagators wrote (values as Buffers, so they travel as AMQP byte arrays), and consumes messages, extracting their
// context with the same propagators. Every outcome is one JSON line on standard output.
//
//   node peer.js publish <amqp-uri> <queue> <w3c|b3multi> <cases-json>
//     cases-json: [{"index":0,"traceId":"<32 hex>","spanId":"<16 hex>","sampled":true,"baggage":{"k":"v"}}]
//     prints {"published":index,"headers":{name:type}} per message, after the broker confirmed it
//   node peer.js consume <amqp-uri> <queue> <w3c|b3multi> <count> <timeout-ms>
//     prints {"messageId":…,"headers":{name:type},"extracted":{…},"exactKeys":{…}} per message; exit 3 on time-out
//
// "w3c" is W3C Trace Context + W3C Baggage; "b3multi" is B3 in multiple headers (x-b3-*) + W3C Baggage.
const amqp = require('amqplib');
const api = require('@opentelemetry/api');
const { CompositePropagator, W3CTraceContextPropagator, W3CBaggagePropagator } = require('@opentelemetry/core');
const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3');

function propagatorFor(format) {
  switch (format) {
    case 'w3c':
      return new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
    case 'b3multi':
      return new CompositePropagator({
        propagators: [new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }), new W3CBaggagePropagator()],
      });
    default:
      throw new Error(`unknown format '${format}' (w3c or b3multi)`);
  }
}

// Header values go on the wire as Buffers: amqplib encodes a Buffer as an AMQP byte array ('x').
const bufferSetter = {
  set(carrier, key, value) {
    carrier[key] = Buffer.from(value, 'utf8');
  },
};

function text(value) {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

// Header names in AMQP tables are case-sensitive; peers write B3 in different cases, so this getter matches
// case-insensitively (and reads strings and byte arrays alike).
const caseInsensitiveGetter = {
  keys(carrier) {
    return Object.keys(carrier);
  },
  get(carrier, key) {
    const wanted = key.toLowerCase();
    for (const name of Object.keys(carrier)) {
      if (name.toLowerCase() === wanted) return text(carrier[name]);
    }
    return undefined;
  },
};

function headerTypes(headers) {
  const types = {};
  for (const [name, value] of Object.entries(headers || {})) {
    types[name] = Buffer.isBuffer(value) ? 'bytes' : typeof value;
  }
  return types;
}

function describe(context) {
  const span = api.trace.getSpanContext(context);
  const baggage = {};
  const bag = api.propagation.getBaggage(context);
  if (bag) {
    for (const [key, entry] of bag.getAllEntries()) baggage[key] = entry.value;
  }
  return span && api.isSpanContextValid(span)
    ? { traceId: span.traceId, spanId: span.spanId, sampled: (span.traceFlags & api.TraceFlags.SAMPLED) !== 0, baggage }
    : { traceId: null, spanId: null, sampled: false, baggage };
}

async function publish(uri, queue, format, casesJson) {
  const propagator = propagatorFor(format);
  const cases = JSON.parse(casesJson);
  const connection = await amqp.connect(uri);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    for (const c of cases) {
      let context = api.trace.setSpanContext(api.ROOT_CONTEXT, {
        traceId: c.traceId,
        spanId: c.spanId,
        traceFlags: c.sampled ? api.TraceFlags.SAMPLED : api.TraceFlags.NONE,
        isRemote: false,
      });
      const entries = {};
      for (const [key, value] of Object.entries(c.baggage || {})) entries[key] = { value };
      context = api.propagation.setBaggage(context, api.propagation.createBaggage(entries));
      const headers = {};
      propagator.inject(context, headers, bufferSetter);
      const body = Buffer.from(JSON.stringify({ index: c.index, expectedTraceId: c.traceId, expectedBaggage: c.baggage || {} }));
      await new Promise((resolve, reject) => {
        channel.sendToQueue(queue, body, { headers, messageId: String(c.index), persistent: true }, (err) => (err ? reject(err) : resolve()));
      });
      console.log(JSON.stringify({ published: c.index, headers: headerTypes(headers) }));
    }
    await channel.close();
  } finally {
    await connection.close();
  }
}

async function consume(uri, queue, format, count, timeoutMs) {
  const propagator = propagatorFor(format);
  const connection = await amqp.connect(uri);
  let timer;
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true });
    await channel.prefetch(10);
    let seen = 0;
    await new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms with ${seen} of ${count} message(s)`)), timeoutMs);
      channel
        .consume(queue, (message) => {
          if (message === null) {
            reject(new Error('the broker cancelled the consumer'));
            return;
          }

          const headers = message.properties.headers || {};
          const extracted = describe(propagator.extract(api.ROOT_CONTEXT, headers, caseInsensitiveGetter));
          // What OpenTelemetry JS's default getter (carrier[key], exact key) finds in the same headers.
          const exactKeys = describe(propagator.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter));
          console.log(JSON.stringify({ messageId: message.properties.messageId ?? null, headers: headerTypes(headers), extracted, exactKeys }));
          channel.ack(message);
          if (++seen === count) resolve();
        })
        .catch(reject);
    });
    await channel.close();
  } finally {
    clearTimeout(timer);
    await connection.close();
  }
}

async function main(argv) {
  const [command, uri, queue, format, ...rest] = argv;
  if (command === 'publish' && rest.length === 1) return publish(uri, queue, format, rest[0]);
  if (command === 'consume' && rest.length === 2) return consume(uri, queue, format, Number(rest[0]), Number(rest[1]));
  console.error('usage: node peer.js publish <uri> <queue> <w3c|b3multi> <cases-json> | consume <uri> <queue> <w3c|b3multi> <count> <timeout-ms>');
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exitCode = process.exitCode || 3;
});
