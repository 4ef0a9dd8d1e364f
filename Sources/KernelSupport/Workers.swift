import Dispatch
import Foundation
import Synchronization

/// Persistent worker threads for splitting one op across cores.
///
/// `DispatchQueue.concurrentPerform` wakes its threads for every call and lets
/// them sleep after, which at batch 1 on two threads costs about as much as many
/// ops take (a 7x7 or depthwise layer runs in tens of microseconds). These
/// workers poll for a short while after each job before sleeping, so the next op
/// of the same inference finds them awake (onnxruntime's pool spins the same way).
package final class Workers: @unchecked Sendable {
    /// One pool per process, sized to the machine's cores (the caller is one of them).
    package static let shared = Workers(count: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// How long an idle worker keeps polling before it blocks, in ns.
    private static let spin: UInt64 = 200_000

    /// The current job in one word, so a task is claimed with one compare-exchange
    /// that also checks it belongs to this job: generation << 40 | tasks << 20 | next index.
    private let state = Atomic<Int>(0)
    /// Tasks of the current job not finished yet.
    private let pending = Atomic<Int>(0)
    /// Workers blocked on `wake`.
    private let sleeping = Atomic<Int>(0)
    /// One job at a time; a concurrent second caller uses libdispatch instead.
    private let busy = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let workerCount: Int
    /// Written by the caller before it publishes `state`; read by a worker only
    /// after it claimed a task of that job (acquire), cleared after all finished.
    private var job: ((Int) -> Void)? = nil
    private var generation = 0

    private init(count: Int) {
        workerCount = count
        for _ in 0..<count {
            let t = Thread { [unowned self] in self.loop() }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Runs body(i) for i in 0..<n on the caller and the workers; returns when all are done.
    package func run(_ n: Int, _ body: (Int) -> Void) {
        if n <= 1 { if n == 1 { body(0) }; return }
        guard workerCount > 0, n < 1 << 20,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            DispatchQueue.concurrentPerform(iterations: n, execute: body)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            job = body
            generation = (generation + 1) & 0x7F_FFFF
            pending.store(n, ordering: .relaxed)
            // Sequentially consistent store then load, against the worker's increment
            // of `sleeping` then load of `state`: one of the two sides sees the other.
            state.store(generation << 40 | n << 20, ordering: .sequentiallyConsistent)
            for _ in 0..<min(sleeping.load(ordering: .sequentiallyConsistent), n - 1) { wake.signal() }
            work(generation)
            // The caller's share is done; the workers' is short (tasks are balanced).
            while pending.load(ordering: .acquiring) > 0 {}
            job = nil
        }
    }

    /// Claims and runs tasks of job `gen` until none are left.
    private func work(_ gen: Int) {
        while true {
            let v = state.load(ordering: .acquiring)
            let index = v & 0xF_FFFF, tasks = (v >> 20) & 0xF_FFFF
            guard v >> 40 == gen, index < tasks else { return }
            if state.compareExchange(expected: v, desired: v + 1, ordering: .acquiring).exchanged {
                job!(index)
                pending.subtract(1, ordering: .releasing)
            }
        }
    }

    private func loop() {
        var seen = 0
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            var gen = state.load(ordering: .acquiring) >> 40
            while gen == seen {
                if DispatchTime.now().uptimeNanoseconds - start > Workers.spin {
                    sleeping.add(1, ordering: .sequentiallyConsistent)
                    // Re-check after announcing the sleep: a job published in between
                    // may have read `sleeping` too early to signal us.
                    if state.load(ordering: .sequentiallyConsistent) >> 40 == seen { wake.wait() }
                    sleeping.subtract(1, ordering: .relaxed)
                }
                gen = state.load(ordering: .acquiring) >> 40
            }
            seen = gen
            work(gen)
        }
    }
}
