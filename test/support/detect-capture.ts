// Pass 1 as the pipeline runs it, for detection tests: a capture read once with readProvenance, each
// record shown (dense vertex indices, capture order) to AutoAttributor and SigmaEventCollector.
import { AutoAttributor } from '../../src/attribution/auto.js';
import { buildClusterModel } from '../../src/attribution/cluster-model.js';
import type { AttributionOutcome } from '../../src/attribution/result.js';
import { type DerivedEvents, SigmaEventCollector } from '../../src/detection/events.js';
import { loadClusterObjectsFile } from '../../src/kubernetes/load.js';
import type { ClusterObjects } from '../../src/kubernetes/objects.js';
import { IdIndex } from '../../src/provenance/id-index.js';
import { type OpenedInput, openInput } from '../../src/provenance/input.js';
import { readProvenance } from '../../src/provenance/reader.js';
import type { Annotations } from '../../src/provenance/records.js';

export interface CaptureRun {
  outcome: AttributionOutcome;
  events: DerivedEvents;
  /** Vertex index → id. */
  idOf: (v: number) => string;
  /** Vertex id → index. */
  vertexOf: (id: string) => number | undefined;
  /** Process vertex index → its annotations (kept only when asked for). */
  processes: Map<number, Annotations>;
}

export async function observeCapture(capturePath: string, servicesPath: string, label: string): Promise<CaptureRun> {
  return observeInput(await openInput(capturePath), await loadClusterObjectsFile(servicesPath), label);
}

/** One input (a file, a rotation set, in memory) against given cluster objects. */
export async function observeInput(input: OpenedInput, cluster: ClusterObjects, label: string, keepProcesses = false): Promise<CaptureRun> {
  const attributor = new AutoAttributor(buildClusterModel(cluster));
  const collector = new SigmaEventCollector(label);
  const ids = new IdIndex();
  const idOf: string[] = [];
  const processes = new Map<number, Annotations>();
  const index = (id: string) => {
    const v = ids.indexOf(id);
    idOf[v] ??= id;
    return v;
  };
  await readProvenance(input, {
    record(rec) {
      if (rec.kind === 'edge') {
        const from = index(rec.from);
        const to = index(rec.to);
        attributor.edge(rec.type, from, to, rec.annotations);
        collector.edge(rec.type, from, to, rec.annotations);
        return;
      }
      const v = index(rec.id);
      if (keepProcesses && rec.type === 'Process') processes.set(v, rec.annotations);
      const observers = [attributor, collector];
      for (const o of observers) {
        if (rec.type === 'Process') o.process(v, rec.annotations);
        else if (rec.type === 'Artifact') o.artifact(v, rec.annotations);
        else o.otherVertex(v, rec.annotations);
      }
    },
  });
  const outcome = attributor.finish();
  const vertexId = (v: number) => idOf[v]!;
  const byId = new Map(idOf.map((id, v) => [id, v]));
  return { outcome, events: collector.finish(outcome, vertexId), idOf: vertexId, vertexOf: (id) => byId.get(id), processes };
}
