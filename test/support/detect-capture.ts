// Pass 1 as the pipeline runs it, for detection tests: a capture read once with readProvenance, each
// record shown (dense vertex indices, capture order) to AutoAttributor and SigmaEventCollector.
import { AutoAttributor } from '../../src/attribution/auto.js';
import { buildClusterModel } from '../../src/attribution/cluster-model.js';
import type { AttributionOutcome } from '../../src/attribution/result.js';
import { type DerivedEvents, SigmaEventCollector } from '../../src/detection/events.js';
import { loadClusterObjectsFile } from '../../src/kubernetes/load.js';
import { IdIndex } from '../../src/provenance/id-index.js';
import { openInput } from '../../src/provenance/input.js';
import { readProvenance } from '../../src/provenance/reader.js';

export interface CaptureRun {
  outcome: AttributionOutcome;
  events: DerivedEvents;
  /** Vertex index → id. */
  idOf: (v: number) => string;
}

export async function observeCapture(capturePath: string, servicesPath: string, label: string): Promise<CaptureRun> {
  const attributor = new AutoAttributor(buildClusterModel(await loadClusterObjectsFile(servicesPath)));
  const collector = new SigmaEventCollector(label);
  const ids = new IdIndex();
  const idOf: string[] = [];
  const index = (id: string) => {
    const v = ids.indexOf(id);
    idOf[v] ??= id;
    return v;
  };
  await readProvenance(await openInput(capturePath), {
    record(rec) {
      if (rec.kind === 'edge') {
        const from = index(rec.from);
        const to = index(rec.to);
        attributor.edge(rec.type, from, to, rec.annotations);
        collector.edge(rec.type, from, to, rec.annotations);
        return;
      }
      const v = index(rec.id);
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
  return { outcome, events: collector.finish(outcome, vertexId), idOf: vertexId };
}
