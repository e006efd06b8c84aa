@file:JvmName("CoroutineResumes")

package org.contextvars4j.benchmarks

import java.util.concurrent.atomic.AtomicInteger
import java.util.function.BooleanSupplier
import java.util.function.Supplier
import kotlin.coroutines.AbstractCoroutineContextElement
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ThreadContextElement
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.yield

/*
 * The coroutine workload of CoroutineResumeBenchmark, behind plain blocking functions that Java
 * calls (a suspend lambda cannot be written in Java). The benchmark class stays in Java, so that
 * JMH's annotation processor handles it as it does every other benchmark.
 */

/**
 * Runs one coroutine on `Dispatchers.Default` with [element] in its context and waits for it: the
 * coroutine suspends and resumes [n] times (`yield()`, which dispatches it again each time), and
 * calls [read] after each resume. `runBlocking` on the calling thread, `withContext` onto the pool.
 *
 * Each start and each resume enters [element] on the pool thread that runs the coroutine
 * (`updateThreadContext`), each suspension leaves it (`restoreThreadContext`): n + 1 of each.
 *
 * @return after how many of the [n] resumes [read] returned `true`
 */
fun resumes(n: Int, element: CoroutineContext, read: BooleanSupplier): Int =
    runBlocking {
        withContext(Dispatchers.Default + element) {
            var seen = 0
            repeat(n) {
                yield()
                if (read.asBoolean) {
                    seen++
                }
            }
            seen
        }
    }

/** What [observe] saw: how often the coroutine was entered, and [probes] after each resume. */
class Observation(
    /** The number of times a thread entered the coroutine's context: its start and its resumes. */
    val entries: Int,
    /** What the probe returned after each resume, in order. */
    val probes: List<String>,
)

/**
 * Runs the same coroutine as [resumes], for a setup's checks: records what [probe] returns after
 * each resume, and counts with an element of its own how often the coroutine's context is entered
 * (n + 1 when each `yield()` really suspended and resumed it).
 */
fun observe(n: Int, element: CoroutineContext, probe: Supplier<String>): Observation {
    val entered = EntryCounter()
    val probes =
        runBlocking {
            withContext(Dispatchers.Default + element + entered) {
                val probes = ArrayList<String>(n)
                repeat(n) {
                    yield()
                    probes.add(probe.get())
                }
                probes
            }
        }
    return Observation(entered.count.get(), probes)
}

/** Counts how often kotlinx.coroutines enters the coroutine's context on a thread. */
private class EntryCounter : AbstractCoroutineContextElement(Key), ThreadContextElement<Unit> {
    companion object Key : CoroutineContext.Key<EntryCounter>

    val count = AtomicInteger()

    override fun updateThreadContext(context: CoroutineContext) {
        count.incrementAndGet()
    }

    override fun restoreThreadContext(context: CoroutineContext, oldState: Unit) {}
}
