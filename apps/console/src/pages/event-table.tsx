import type { AuditEvent } from "../trpc.js";

/** Audit events as a table; each event's data as compact JSON (it never holds a secret). */
export function EventTable({
  events,
  caption,
}: {
  readonly events: readonly AuditEvent[];
  readonly caption: string;
}) {
  if (events.length === 0) return <p>No events.</p>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">When</th>
          <th scope="col">Action</th>
          <th scope="col">Actor</th>
          <th scope="col">Subject</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.seq}>
            <td>{e.seq}</td>
            <td>
              <time dateTime={e.at}>{e.at}</time>
            </td>
            <td>{e.action}</td>
            <td>{e.actor}</td>
            <td>
              {e.subjectType} {e.subjectId.slice(0, 8)}
            </td>
            <td>
              <code className="data">{JSON.stringify(e.data)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
