import { useEffect, useState } from 'react'
import { api } from './api.ts'
import { Meter } from './MyWork.tsx'

type Row = { rank: number; name: string; isDisplayName: boolean; labels: number; accepted?: number; qualityBps?: number; you: boolean }
type Board = { exported: boolean; rows: Row[] }

/** Per-campaign leaderboard: names only for labelers who opted in; quality once the campaign is exported. */
export function LeaderboardPage() {
  const [campaigns, setCampaigns] = useState<Array<{ id: string; name: string }>>([])
  const [cid, setCid] = useState('')
  const [board, setBoard] = useState<Board | null>(null)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => {
    api<{ campaigns: Array<{ id: string; name: string }> }>('GET', '/api/campaigns').then((r) => {
      setCampaigns(r.campaigns)
      if (r.campaigns.length) setCid(r.campaigns[0].id)
    })
  }, [])
  useEffect(() => {
    setBoard(null)
    if (cid) api<Board>('GET', `/api/campaigns/${cid}/leaderboard`).then(setBoard, (e) => setErr(e.message))
  }, [cid])
  return (
    <section className="card" data-testid="leaderboard">
      <div className="row spread">
        <h2>Leaderboard</h2>
        <select value={cid} onChange={(e) => setCid(e.target.value)} data-testid="leaderboard-campaign">
          {campaigns.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </div>
      {err ? <div className="error">{err}</div> : null}
      {board ? (
        <>
          <p className="small muted">{board.exported ? 'Exported: accepted labels and quality are final for this export.' : 'Quality is shown once the campaign is exported.'}</p>
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Labeler</th>
                <th>Labels</th>
                {board.exported ? <th>Accepted</th> : null}
                {board.exported ? <th>Quality</th> : null}
              </tr>
            </thead>
            <tbody>
              {board.rows.map((r) => (
                <tr key={r.rank} className={r.you ? 'you' : ''}>
                  <td>{r.rank}</td>
                  <td className={r.isDisplayName ? '' : 'mono small'}>
                    {r.name} {r.you ? <span className="chip role">you</span> : null}
                  </td>
                  <td>{r.labels}</td>
                  {board.exported ? <td>{r.accepted}</td> : null}
                  {board.exported ? (
                    <td>
                      <Meter bps={r.qualityBps!} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  )
}
