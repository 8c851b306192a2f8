/**
 * The execscope TUI: title, Sessions (or Connections), Timeline, Event or Content, status row.
 * It renders whatever part of the model exists so far (the pipeline grows it while loading) and
 * follows the terminal's size. Navigation state lives in ui-state.ts; this file derives what the
 * panes show from the model and that state.
 */
import { Box, useApp, useInput, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { CaptureModel } from '../model/session.js';
import { contentLines, contentRowOf, contentStreams, findInBytes, findInLines, headBuffer, linesCut, shownPart } from './content.js';
import { EventList, eventListWindow } from './EventList.js';
import { bytesPerRow } from './hex-view.js';
import type { StreamSaver } from '../pipeline/stream-extract.js';
import { useStreamContent } from './use-stream-content.js';
import type { ContentReader } from '../pipeline/capture-content-reader.js';
import { ConnectionList } from './ConnectionList.js';
import { ConnectionOverlay, connectionRows } from './ConnectionOverlay.js';
import { WarningList } from './WarningList.js';
import { warningTarget } from './warning-target.js';
import { focusProblem } from './problem-focus.js';
import { ContentView, contentRowCount } from './ContentView.js';
import { EventDetail, layerTree } from './EventDetail.js';
import { mouseAction, parseMouse, type ScreenMap } from './mouse.js';
import { ExplainPanel, explainRoom, explainRows, type WalkInfo } from './ExplainPanel.js';
import { eventRef, walkIndex, walkPositions } from './explain-walk.js';
import { explainEvent } from '../explain/explain-event.js';
import { walkSteps } from '../explain/walk.js';
import { modelLayers, type EventInspector } from './event-layers.js';
import { DiagnosisOverlay, diagnosisRows } from './DiagnosisOverlay.js';
import { HelpOverlay, helpRows } from './HelpOverlay.js';
import { overlayScrollLimit } from './OverlayPane.js';
import { layoutPanes, CHROME_ROWS } from './layout.js';
import { Line } from './Line.js';
import { connectionMatches, filterError, parseFilter, sessionMatches, type FilterFacts } from './session-filter.js';
import { SessionList, sessionListWindow } from './SessionList.js';
import { sessionOutcome, sortSessions } from '../report/session-summary.js';
import { StatusBar } from './StatusBar.js';
import { safeInline } from '../report/terminal-text.js';
import { formatBytes } from '../report/format.js';
import { buildTimeAxis, fullView } from './time-axis.js';
import { LABEL_WIDTH, Timeline, timelineGeometry, timelineWindow } from './Timeline.js';
import { activityTimes, buildLanes, defaultSelection, gapMarks, sessionEnd } from './timeline-lanes.js';
import { TitleBar } from './TitleBar.js';
import { diagnoseAll, findingsOf, type Diagnoses, type Finding } from '../diagnose/diagnose.js';
import { hopChain, hopProgress } from '../model/cross-hop.js';
import { groupSessions, rowOf } from './session-groups.js';
import { hopSpan, hopTimes, timelineHops } from './timeline-hops.js';
import { hopChainSteps } from '../report/outcome.js';
import { reduceInput } from './keys.js';
import { initialUiState, timeIndex, timeOrder, type Overlay, type Pane, type UiContext, type UiState } from './ui-state.js';
import { isStreamEvent } from './timeline-lanes.js';
import { useInspection } from './use-inspection.js';
import { useTerminalSize } from './use-terminal-size.js';

export interface LoadState {
  /** The model so far; null until the pipeline produced one. */
  model: CaptureModel | null;
  bytesRead: number;
  totalBytes: number | null;
  /** Bumped on every update: the pipeline grows the model in place, so identity does not change. */
  revision: number;
  /** Why loading failed (shown in the UI). */
  error: string | null;
}

export interface AppProps {
  /** Name of what was opened, for the title. */
  path: string;
  /** A line the title keeps whole, whatever gives way (the tap's `export KUBECONFIG=…`). */
  note?: string;
  /** The input grows while it is shown (a pipe, a tap, `live`): the status bar says live, not loading. */
  live?: boolean;
  load: LoadState;
  /** Describes the lower layers of an event by re-reading the capture; without one the model's layers are shown. */
  inspector?: EventInspector;
  /** Reads a whole stream back from the capture when it is longer than its kept head. */
  contentReader?: ContentReader;
  /** Writes a stream or an event's bytes to a file (S). */
  saver?: StreamSaver;
  /** Initial navigation state (tests, or a CLI that wants to open on a given pane). */
  initialState?: Partial<UiState>;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/**
 * Selections the key left alone keep their "default" meaning (the session's default event, content
 * following the timeline) instead of freezing the value they resolved to. The session and
 * connection stay pinned by id, so re-sorting keeps what the user looks at.
 */
function keepDefaults(next: UiState, resolved: UiState, ui: UiState): UiState {
  const out = { ...next };
  if (next.lane === resolved.lane && next.item === resolved.item) {
    out.lane = ui.lane;
    out.item = ui.item;
  }
  // The warning's layer, until a key moves off it.
  if (next.layer === resolved.layer && next.field === resolved.field && next.problem === resolved.problem) out.layer = ui.layer;
  if (next.contentStream === resolved.contentStream) out.contentStream = ui.contentStream;
  if (next.contentScroll === resolved.contentScroll) out.contentScroll = ui.contentScroll;
  return out;
}

/** Why a save failed, in one line. */
function saveError(err: unknown): string {
  const e = err as { code?: string; message?: string } | null;
  if (e?.code === 'EEXIST') return 'it exists (a save never overwrites)';
  return e?.message ?? String(err);
}

/** A file name out of a stream's name: letters, digits, dot, dash and underscore only. */
function fileSafe(name: string): string {
  return name.replace(/[^\w.-]/g, '_');
}

export function App({ path, note, live = false, load, inspector, contentReader, saver, initialState }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [ui, setUi] = useState<UiState>(() => ({ ...initialUiState, ...initialState }));
  const model = load.model;
  const rev = load.revision;

  const terms = useMemo(() => parseFilter(ui.filterDraft ?? ui.filter), [ui.filterDraft, ui.filter]);
  // The hang doctor's findings, worked out for every session at once when first asked for in a model revision.
  const facts = useMemo<FilterFacts>(() => {
    let all: Diagnoses | null = null;
    // Kept for the revision: a filter asks about every session on each keystroke.
    const known = new Map<number, Finding[]>();
    return {
      findings: (s) => {
        let f = known.get(s.id);
        if (!f) known.set(s.id, (f = findingsOf((all ??= diagnoseAll({ sessions: model?.sessions ?? [], connections: model?.connections ?? [] })).get(s.id))));
        return f;
      },
    };
  }, [model, rev]);
  const sessions = useMemo(
    () => (model ? sortSessions(model.sessions.filter((s) => sessionMatches(s, terms, facts)), ui.sort) : []),
    [model, rev, terms, facts, ui.sort],
  );
  const connections = useMemo(() => (model ? model.connections.filter((c) => connectionMatches(c, terms)) : []), [model, rev, terms]);
  const sessionRows = useMemo(() => (model ? groupSessions(sessions, model.sessions, ui.unfolded) : []), [model, rev, sessions, ui.unfolded]);
  // A hop folded under its exec is shown through the exec's row.
  const session = (model ? rowOf(sessionRows, model.sessions, ui.session) : null)?.session ?? sessionRows[0]?.session ?? null;
  // The exec's hops on one time axis, so that which hop broke first shows.
  const chain = useMemo(() => (session && model && (session.previousHop !== null || session.nextHop !== null) ? hopProgress(model.sessions, session) : null), [session, model, rev]);
  const hopRows = useMemo(() => (chain && model ? timelineHops(chain, model.sessions, session) : []), [chain, model, session]);
  const connectionId = (connections.find((c) => c.id === ui.connection) ?? connections[0])?.id ?? null;

  const geometry = timelineGeometry(columns);
  const lanes = useMemo(() => (session && model ? buildLanes(session, model.sessions) : []), [session, model, rev]);
  const axis = useMemo(() => {
    if (!session) return null;
    const span = hopRows.length ? hopSpan(hopRows) : { start: session.startTs, end: sessionEnd(session) };
    return buildTimeAxis(span.start, span.end, [...activityTimes(lanes), ...hopRows.flatMap(hopTimes)], ui.compressIdle, geometry.cells);
  }, [session, lanes, hopRows, ui.compressIdle, geometry.cells]);
  const gaps = useMemo(() => (session && model ? gapMarks(session, model.connections) : []), [session, model, rev]);

  const fallback = ui.lane < 0 ? defaultSelection(lanes) : null;
  const laneIndex = lanes.length ? clamp(fallback ? fallback.lane : ui.lane, 0, lanes.length - 1) : -1;
  const lane = lanes[laneIndex] ?? null;
  const itemIndex = lane ? Math.min(fallback ? fallback.item : ui.item, lane.items.length - 1) : -1;
  const item = lane && itemIndex >= 0 ? lane.items[itemIndex] : null;
  const view = axis ? (ui.view ?? fullView(axis)) : null;
  const order = useMemo(() => timeOrder({ lanes }), [lanes]);
  const orderIndex = timeIndex({ lane: laneIndex, item: itemIndex }, order);

  const warnings = model?.warnings ?? [];
  const warningIndex = clamp(ui.warning, 0, Math.max(0, warnings.length - 1));
  // What the top pane lists: how many entries, and which one is selected.
  const listed: Record<UiState['list'], { count: number; selected: number }> = {
    sessions: { count: sessionRows.length, selected: sessionRows.findIndex((r) => r.session === session) },
    connections: { count: connections.length, selected: connections.findIndex((c) => c.id === connectionId) },
    warnings: { count: warnings.length, selected: warningIndex },
  };
  const list = listed[ui.list];
  // Each list has a row of column names above its entries.
  const layout = layoutPanes(rows, columns, ui.pane, { list: list.count + 1, lanes: lanes.length + hopRows.length, events: order.length }, ui.explain);
  const eventShown = !ui.overlay && layout.detailPane !== 'content' && layout.detail > 0;
  // Beside the Event pane, Content keeps a column of space between the two.
  const contentWidth = layout.detailPane === 'both' ? columns - layout.eventWidth - 1 : columns;

  const baseLayers = useMemo(() => (model && session && item ? modelLayers(model, session, item.event) : []), [model, session, item, rev]);
  // Only what is on screen is worth re-reading the capture for.
  const inspection = useInspection(inspector, session, eventShown ? (item?.event ?? null) : null, ui.problem?.packet);
  const inspected = inspection.status === 'done' && inspection.layers.length ? inspection.layers : baseLayers;
  // After ⏎ on a warning: its layer marked, and selected until the user moves (ui.layer -1).
  const { layers, layer: problemLayer } = useMemo(() => focusProblem(inspected, ui.problem), [inspected, ui.problem]);
  const layerIndex = clamp(ui.layer < 0 ? problemLayer : ui.layer, 0, Math.max(0, layers.length - 1));

  const steps = useMemo(() => (session ? walkSteps(session) : []), [session, rev]);
  const walk = useMemo(() => walkPositions(lanes, steps), [lanes, steps]);

  const cStreams = useMemo(() => (session ? contentStreams(session) : []), [session, rev]);
  const findings = session ? facts.findings(session) : [];
  const hops = useMemo(() => (session && model && hopChain(model.sessions, session).length > 1 ? hopChainSteps(model, session, false) : []), [session, model, rev]);
  const follow = lane?.stream ? cStreams.indexOf(lane.stream) : -1;
  const cIndex = cStreams.length ? (ui.contentStream >= 0 ? Math.min(ui.contentStream, cStreams.length - 1) : Math.max(0, follow)) : -1;
  const cStream = cStreams[cIndex] ?? null;
  const cHeadBytes = cStream?.headBytes ?? 0;
  // Rendering up to a whole kept head is the costliest thing here: only when the pane is on screen.
  const contentShown = !ui.overlay && layout.detailPane !== 'event' && layout.detail > 0;
  const cFull = useStreamContent(contentReader, session, cStream, contentShown);
  const cLines = useMemo(
    () => (contentShown && session && cStream ? contentLines(session, cStream, cFull ?? cStream.head, contentWidth) : []),
    [contentShown, session, cStream, cHeadBytes, cFull, contentWidth],
  );
  const cBytes = useMemo(() => (contentShown && cStream && ui.hex ? (cFull ?? headBuffer(cStream)) : null), [contentShown, cStream, cHeadBytes, ui.hex, cFull]);
  const cRows = contentRowCount(cLines, cBytes, ui.hex, contentWidth);
  // Content follows the selected event: the row of its first byte, when it is on the stream shown.
  const followed = item && lane?.stream && lane.stream === cStream && isStreamEvent(item.event) ? item.event.streamOffset : null;
  const eventRow = useMemo(() => {
    if (!contentShown || followed === null || !session || !cStream) return 0;
    return ui.hex ? Math.floor(followed / bytesPerRow(contentWidth)) : contentRowOf(session, cStream, cFull ?? cStream.head, followed, contentWidth);
  }, [contentShown, followed, session, cStream, cFull, cHeadBytes, ui.hex, contentWidth]);
  const textMatches = useMemo(() => (contentShown && ui.search && !ui.hex ? findInLines(cLines, ui.search) : []), [contentShown, ui.search, ui.hex, cLines]);
  const byteMatches = useMemo(() => (contentShown && ui.search && cBytes ? findInBytes(cBytes, ui.search) : []), [contentShown, ui.search, cBytes]);

  const contentRows = Math.max(1, layout.detail - 1);
  const bodyRows = Math.max(0, rows - CHROME_ROWS);
  const connection = model?.connections.find((c) => c.id === connectionId) ?? null;
  // Each overlay: how many rows it has (its scroll stops at the last) and its pane at a scroll
  // position; none when it has nothing to show (no session, no connection), and the panes show.
  const overlays: Record<Overlay, { rows: number; pane: (scroll: number) => ReactNode } | null> = {
    help: { rows: helpRows(columns).length, pane: (scroll) => <HelpOverlay height={bodyRows} width={columns} scroll={scroll} /> },
    diagnosis: session ? { rows: diagnosisRows(findings, columns).length, pane: (scroll) => <DiagnosisOverlay session={session} findings={findings} height={bodyRows} width={columns} scroll={scroll} /> } : null,
    connection: connection ? { rows: connectionRows(connection, columns).length, pane: (scroll) => <ConnectionOverlay connection={connection} height={bodyRows} width={columns} scroll={scroll} /> } : null,
  };
  const overlay = ui.overlay ? overlays[ui.overlay] : null;
  // Rows a page key moves in the focused pane: what it shows below its title (and column names).
  const pageRows: Record<Pane, number> = {
    sessions: layout.sessions - 1,
    timeline: layout.sessions - 1,
    events: layout.events - 2,
    event: layout.detail - 4,
    content: contentRows,
  };
  const selectedLayer = layers[layerIndex];
  const resolved: UiState = {
    ...ui,
    session: session?.id ?? null,
    connection: connectionId,
    lane: laneIndex,
    item: itemIndex,
    contentStream: cIndex,
    contentScroll: clamp(ui.contentScroll < 0 ? eventRow : ui.contentScroll, 0, Math.max(0, cRows - contentRows)),
    layer: layerIndex,
    field: clamp(ui.field, -1, (selectedLayer?.fields?.length ?? 0) - 1),
    overlayScroll: clamp(ui.overlayScroll, 0, overlayScrollLimit(overlay?.rows ?? 0, bodyRows)),
    warning: warningIndex,
  };
  const ctx: UiContext = {
    sessionIds: sessionRows.map((r) => r.session.id),
    chainOf: (id) => {
      const row = sessionRows.find((r) => r.session.id === id);
      return row ? { head: row.head, hops: row.hops } : null;
    },
    connectionIds: connections.map((c) => c.id),
    lanes,
    axis,
    layerCount: layers.length,
    fieldCount: selectedLayer?.fields?.length ?? 0,
    hexRows: selectedLayer?.bytes ? Math.ceil(selectedLayer.bytes.length / bytesPerRow(layout.eventWidth)) : 0,
    contentStreamCount: cStreams.length,
    contentLineCount: cRows,
    pageSize: Math.max(1, pageRows[ui.pane]),
    walk,
    warningCount: warnings.length,
    // Worked out only when ⏎ can use it: the selected warning's event, on another session's lanes.
    warningTarget: model && ui.list === 'warnings' && warnings[warningIndex] ? warningTarget(model, warnings[warningIndex]) : null,
    connectionSession: connection?.sessionIds[0] ?? null,
    contentShownPart: cStream ? shownPart(cStream, cFull?.length ?? null, !ui.hex && linesCut(cLines)) : null,
    findInContent: (term) => (ui.hex ? (cBytes ? findInBytes(cBytes, term).map((m) => Math.floor(m.start / bytesPerRow(contentWidth))) : []) : findInLines(cLines, term).map((m) => m.row)),
    saveTarget,
  };

  /** What S saves where the focus is, offered under a name no file has (a save never overwrites: the name just saved is taken). */
  function saveTarget(): { defaultPath: string } | { nothing: string } {
    const target = defaultSaveTarget();
    return saver && 'defaultPath' in target ? { defaultPath: saver.freePath(target.defaultPath) } : target;
  }

  /** What S saves where the focus is: the stream in Content, else the selected event's payload (or its lane's stream). */
  function defaultSaveTarget(): { defaultPath: string } | { nothing: string } {
    if (!session) return { nothing: 'nothing to save: no session selected' };
    if (ui.pane === 'content') {
      return cStream ? { defaultPath: `execscope-${session.id}-${fileSafe(cStream.name)}.bin` } : { nothing: 'nothing to save: this session has no payload stream' };
    }
    const e = item?.event;
    if (lane?.stream && e && isStreamEvent(e) && e.kind === 'data' && e.length > 0) {
      return { defaultPath: `execscope-${session.id}-${fileSafe(lane.stream.name)}-${e.streamOffset}.bin` };
    }
    if (lane?.stream) return { defaultPath: `execscope-${session.id}-${fileSafe(lane.stream.name)}.bin` };
    return { nothing: 'nothing to save: this event carries no stream bytes (select a data event, or a stream in Content)' };
  }

  // S, then a path: write the bytes and say in one line how it went.
  const saving = useRef<string | null>(null);
  useEffect(() => {
    const to = ui.saveTo;
    if (to === null || saving.current === to) return;
    saving.current = to;
    const done = (notice: UiState['notice']) => {
      saving.current = null;
      setUi((u) => ({ ...u, saveTo: null, notice }));
    };
    const e = item?.event;
    const stream = ui.pane === 'content' ? cStream : (lane?.stream ?? null);
    if (!session || !stream || !saver) return done({ text: saver ? 'nothing to save here' : 'saving needs the capture (not available here)', error: true });
    const range = ui.pane !== 'content' && e && isStreamEvent(e) && e.kind === 'data' && e.length > 0 ? { start: e.streamOffset, end: e.streamOffset + e.length } : null;
    const what = range ? `${formatBytes(range.end - range.start)} of ${stream.name} from byte ${range.start}` : stream.name;
    saver({ session, stream, range, dir: range && e ? e.dir : undefined, path: to }).then(
      (n) => done({ text: `wrote ${formatBytes(n)} (${safeInline(what)} of #${session.id}) to ${safeInline(to)}`, error: false }),
      (err: unknown) => done({ text: `✗ cannot save to ${safeInline(to)}: ${safeInline(saveError(err), 200)}`, error: true }),
    );
  }, [ui.saveTo]);

  // Explain mode: the selected event in words, and where the guided walk stands.
  const ref = ui.explain && eventShown && lane && item ? eventRef(lane, item) : null;
  const explanation = useMemo(() => (ref && session && model ? explainEvent(session, model.sessions, ref) : null), [ref?.event, session, model, rev]);
  let walkInfo: WalkInfo | null = null;
  if (ui.explain && session) {
    const at = walkIndex(resolved, ctx);
    const step = at >= 0 ? steps[walk[at].step] : null;
    if (step) {
      const exact = walk[at].lane === laneIndex && walk[at].item === itemIndex;
      walkInfo = { step: at + 1, steps: walk.length, exact, repeats: step.repeats, repeatBytes: step.repeatBytes, lastAt: step.lastTs - session.startTs };
    }
  }
  // Beside the layers when both fit, else in their place, where ↑↓ scroll it instead of the layers.
  const explainSide = columns >= 100;
  const explainWidth = explainSide ? Math.floor(columns * 0.55) : columns;
  const eventWidth = ui.explain ? columns - explainWidth : layout.eventWidth;
  const explained = explanation ? explainRows(explanation, walkInfo, explainWidth) : null;
  if (explained && !explainSide) ctx.explainOverflow = Math.max(0, explained.length - explainRoom(layout.detail));
  resolved.explainScroll = clamp(ui.explainScroll, 0, ctx.explainOverflow ?? 0);

  // Ink may deliver a key before it re-subscribes a new handler: the handler reads the latest render.
  // Where everything is on this frame, for the mouse.
  const tree = layerTree({ layers, selectedLayer: resolved.layer, selectedField: resolved.field, focused: ui.pane === 'event', height: layout.detail, width: eventWidth, inspection });
  const timelineRows = timelineWindow(layout.timeline, hopRows.length, lanes.length, laneIndex);
  const screen: ScreenMap = {
    layout,
    list: { ...sessionListWindow(list.count, list.selected, layout.sessions), foldColumn: ui.list === 'sessions' && sessionRows.some((r) => r.hops > 1) },
    timeline: { hops: hopRows.slice(0, timelineRows.hops).map((h) => h.session.id), firstLane: timelineRows.first, cells: geometry.cells, labelWidth: LABEL_WIDTH, axis, view },
    events: { ...eventListWindow(order.length, orderIndex, layout.events), order },
    layerRows: ui.explain ? [] : tree.lines.slice(tree.first, tree.first + tree.rows).map((l) => l.layer),
  };
  const latest = useRef({ ui, resolved, ctx, screen });
  latest.current = { ui, resolved, ctx, screen };
  const onKey = useCallback(
    (input: string, key: Key) => {
      const { ui: current, resolved: from, ctx: context, screen: map } = latest.current;
      const mouse = parseMouse(input);
      if (mouse === 'ignored') return;
      const next = mouse ? mouseAction(from, context, map, mouse) : reduceInput(from, { input, ...key }, context);
      if (next === 'quit') return exit();
      const stored = keepDefaults(next, from, current);
      latest.current = { ...latest.current, ui: stored, resolved: next };
      setUi(stored);
    },
    [exit],
  );
  useInput(onKey);

  const loading = load.error === null && !model?.done;
  let body;
  if (overlay) {
    body = overlay.pane(resolved.overlayScroll);
  } else if (!model) {
    body = load.error ? (
      <Box flexDirection="column">
        <Line segments={[{ text: `✗ cannot analyze ${safeInline(path)}`, color: 'red', bold: true }]} />
        <Line segments={[{ text: `  ${safeInline(load.error, 400)}`, color: 'red' }]} />
        <Line segments={[{ text: '  q quits', dim: true }]} />
      </Box>
    ) : (
      <Line segments={[{ text: '  reading the capture…', dim: true }]} />
    );
  } else {
    // The top pane, for what it lists.
    const listPanes: Record<UiState['list'], () => ReactNode> = {
      sessions: () => (
        <SessionList
          sessions={sessions}
          rows={sessionRows}
          all={model.sessions}
          rpcs={model.rpcs}
          selectedId={resolved.session}
          focused={ui.pane === 'sessions'}
          height={layout.sessions}
          width={columns}
          sort={ui.sort}
          filter={ui.filterDraft ?? ui.filter}
          filterError={filterError(terms)}
          loading={loading}
          stopped={load.error ?? model.fatal?.message ?? null}
          otherConnections={model.connections.filter((c) => c.sessionIds.length === 0).length}
        />
      ),
      warnings: () => <WarningList warnings={warnings} selected={warningIndex} focused={ui.pane === 'sessions'} height={layout.sessions} width={columns} />,
      connections: () => (
        <ConnectionList
          connections={connections}
          total={model.connections.length}
          selectedId={connectionId}
          focused={ui.pane === 'sessions'}
          height={layout.sessions}
          width={columns}
          filter={ui.filterDraft ?? ui.filter}
          unlisted={model.unlistedConnections?.connections ?? 0}
        />
      ),
    };
    body = (
      <>
        {listPanes[ui.list]()}
        {session && axis && view ? (
          <Timeline
            session={session}
            hops={hops}
            hopRows={hopRows}
            finding={findings[0] ?? null}
            outcome={sessionOutcome(session, model.sessions, loading)}
            lanes={lanes}
            axis={axis}
            view={view}
            gaps={gaps}
            selectedLane={laneIndex}
            selectedItem={item}
            compressIdle={ui.compressIdle}
            focused={ui.pane === 'timeline'}
            height={layout.timeline}
            width={columns}
          />
        ) : (
          <Box height={layout.timeline} />
        )}
        <EventList session={session} lanes={lanes} order={order} selected={orderIndex} focused={ui.pane === 'events'} height={layout.events} />
        <Box flexDirection="row" height={layout.detail}>
          {layout.detailPane !== 'content' ? (
            <>
              {!ui.explain || explainSide ? (
                <Box flexDirection="column" width={eventWidth}>
                  <EventDetail
                    session={session}
                    lane={lane}
                    item={item}
                    layers={layers}
                    inspection={inspection}
                    selectedLayer={resolved.layer}
                    selectedField={resolved.field}
                    hexScroll={resolved.hexScroll}
                    focused={ui.pane === 'event'}
                    height={layout.detail}
                    width={eventWidth}
                  />
                </Box>
              ) : null}
              {ui.explain ? (
                <ExplainPanel rows={explained} walk={walkInfo} scroll={resolved.explainScroll} focused={ui.pane === 'event' && !explainSide} height={layout.detail} width={explainWidth} />
              ) : null}
            </>
          ) : null}
          {layout.detailPane !== 'event' ? (
            <Box flexDirection="column" width={contentWidth} marginLeft={layout.detailPane === 'both' ? 1 : 0}>
              <ContentView
                streams={cStreams}
                selected={cIndex}
                lines={cLines}
                bytes={cBytes}
                loadedBytes={cFull?.length ?? null}
                hex={ui.hex}
                scroll={resolved.contentScroll}
                search={ui.search ? { term: ui.search, text: textMatches, bytes: byteMatches, current: ui.searchAt } : null}
                focused={ui.pane === 'content'}
                height={layout.detail}
                width={contentWidth}
              />
            </Box>
          ) : null}
        </Box>
      </>
    );
  }
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <TitleBar path={path} note={note} model={model} error={model ? load.error : null} width={columns} />
      <Box flexDirection="column" height={bodyRows} overflow="hidden">
        {body}
      </Box>
      <StatusBar ui={resolved} ctx={ctx} filterError={filterError(terms)} progress={{ ...load, live }} loading={loading} width={columns} />
    </Box>
  );
}
