package org.contextvars4j.kotlin

import java.util.concurrent.CyclicBarrier
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.random.Random
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.assertj.core.api.Assertions.assertThat
import org.contextvars4j.Context
import org.contextvars4j.ContextVar
import org.junit.jupiter.api.Test

/**
 * 1,000 concurrent children, each setting its own value and checking it across suspensions and a
 * `withContext` to the I/O dispatcher: no child ever sees another's value, and afterwards no
 * dispatcher thread holds one. The suspensions are random; the seed is printed and in every
 * message (`-Dcv4j.seed=N` replays it).
 */
class ConcurrentChildrenTest {

    @Test
    fun onDispatchersDefaultAndIo() {
        val mismatches = load(Dispatchers.Default, Dispatchers.IO)
        assertThat(mismatches.get()).`as`("mismatches (seed %d)", SEED).isZero()
        // Default's threads: as many probes as it runs at once, each held until all have started,
        // so that each runs on a thread of its own; I/O's: more than the load could have used.
        assertThat(probe(CoroutineScope(Dispatchers.Default), Runtime.getRuntime().availableProcessors()))
            .`as`("values held by Dispatchers.Default's threads").isZero()
        assertThat(probe(CoroutineScope(Dispatchers.IO), 16))
            .`as`("values held by Dispatchers.IO's threads").isZero()
    }

    @Test
    fun onPoolsWhoseEveryThreadIsProbedAfterwards() {
        val default = Executors.newFixedThreadPool(4) { Thread(it, "default-like") }
        val io = Executors.newFixedThreadPool(8) { Thread(it, "io-like") }
        try {
            val mismatches = load(default.asCoroutineDispatcher(), io.asCoroutineDispatcher())
            assertThat(mismatches.get()).`as`("mismatches (seed %d)", SEED).isZero()
            assertThat(probeEveryThread(default, 4)).`as`("values held by the pool's threads").isZero()
            assertThat(probeEveryThread(io, 8)).`as`("values held by the I/O pool's threads").isZero()
        } finally {
            for (pool in listOf(default, io)) {
                pool.shutdown()
                assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue()
            }
        }
    }

    private fun load(default: CoroutineDispatcher, io: CoroutineDispatcher): AtomicInteger {
        val mismatches = AtomicInteger()
        val random = Random(SEED)
        val pauses = List(CHILDREN) { List(4) { random.nextInt(0, 3) } }
        runBlocking(default + ContextElement.copyCurrent()) {
            withTimeout(60_000) {
                REQUEST.set("parent")
                val children = (0 until CHILDREN).map { i ->
                    async {
                        fun check(expected: String) {
                            if (REQUEST.get() != expected) mismatches.incrementAndGet()
                        }
                        check("parent")
                        REQUEST.set("child $i")
                        pause(pauses[i][0])
                        check("child $i")
                        withContext(io) {
                            check("child $i")
                            pause(pauses[i][1])
                            REQUEST.set("child $i on io")
                            pause(pauses[i][2])
                            check("child $i on io")
                        }
                        check("child $i on io")
                        pause(pauses[i][3])
                        check("child $i on io")
                        REQUEST.get()
                    }
                }
                val results = children.awaitAll()
                for ((i, result) in results.withIndex()) {
                    if (result != "child $i on io") mismatches.incrementAndGet()
                }
                if (REQUEST.get() != "parent") mismatches.incrementAndGet()
            }
        }
        return mismatches
    }

    private suspend fun pause(kind: Int) {
        when (kind) {
            0 -> yield()
            1 -> delay(1)
            else -> Unit
        }
    }

    /** The number of probes, each on a thread of its own, that found a value in their context. */
    private fun probe(scope: CoroutineScope, threads: Int): Int {
        val barrier = CyclicBarrier(threads)
        val held = AtomicInteger()
        runBlocking {
            (0 until threads).map {
                scope.launch {
                    barrier.await(10, TimeUnit.SECONDS)
                    if (Context.copyCurrent().size() != 0 || REQUEST.get() != "unset") held.incrementAndGet()
                }
            }.forEach { it.join() }
        }
        return held.get()
    }

    private fun probeEveryThread(pool: ExecutorService, threads: Int): Int {
        val barrier = CyclicBarrier(threads)
        val probes = (0 until threads).map {
            pool.submit<Boolean> {
                barrier.await(10, TimeUnit.SECONDS)
                Context.copyCurrent().size() != 0
            }
        }
        return probes.count { it.get(10, TimeUnit.SECONDS) }
    }

    companion object {
        private const val CHILDREN = 1_000
        private val REQUEST: ContextVar<String> = ContextVar.named("request", "unset")
        private val SEED: Long = System.getProperty("cv4j.seed")?.toLong() ?: System.nanoTime()

        init {
            println("ConcurrentChildrenTest: seed $SEED (replay with -Dcv4j.seed=$SEED)")
        }
    }
}
